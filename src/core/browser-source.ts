// A ByteSource over a browser File or Blob: each read slices the bytes it needs, so a profile of
// any size is read piece by piece and never held whole in memory.

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
