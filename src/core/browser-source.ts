// A ByteSource over a browser File or Blob: each read slices the bytes it needs, so a profile of
// any size is read piece by piece and never held whole in memory. And a recording's files given to
// the browser, looked up by name, for src/recording/read.ts.

import { InputError } from '../model.js';
import type { RecordingFiles } from '../recording/read.js';
import type { ByteSource } from './source.js';

export class BlobSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  private readonly blob: Blob;
  private readonly onRead?: (bytes: number) => void;

  /** `onRead` hears how many bytes each read returned (for a progress bar). */
  constructor(blob: Blob, name: string, onRead?: (bytes: number) => void) {
    this.blob = blob;
    this.name = name;
    this.size = blob.size;
    this.onRead = onRead;
  }

  async read(offset: number, into: Uint8Array): Promise<number> {
    if (offset >= this.size || into.length === 0) return 0;
    const end = Math.min(this.size, offset + into.length);
    const bytes = new Uint8Array(await this.blob.slice(offset, end).arrayBuffer());
    into.set(bytes);
    this.onRead?.(bytes.length);
    return bytes.length;
  }

  async close(): Promise<void> {}
}

/**
 * The files of a `collect` recording given to the browser (dropped, chosen, or a folder), by name:
 * what src/recording/read.ts reads a recording through. `onRead` hears every read of every file.
 */
export function blobRecording(name: string, files: { name: string; file: Blob }[], onRead?: (bytes: number) => void): RecordingFiles {
  const byName = new Map(files.map((f) => [f.name, f.file]));
  const path = (file: string) => `${name}/${file}`;
  return {
    name,
    path,
    has: async (file) => byName.has(file),
    async open(file) {
      const blob = byName.get(file);
      if (!blob) throw new InputError(`${path(file)}: missing from the recording`);
      return new BlobSource(blob, path(file), onRead);
    },
  };
}
