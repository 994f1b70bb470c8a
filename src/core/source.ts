// Random-access byte sources. The importers read a profile twice at different places (a quick
// structural scan, then two arrays side by side), so a source must read at any offset: a file
// (fs read at a position) in Node, a File (slice) in the browser.

export interface ByteSource {
  /** What to call the input in messages. */
  readonly name: string;
  readonly size: number;
  /** Reads up to `into.length` bytes at `offset` into `into`; returns how many were read. */
  read(offset: number, into: Uint8Array): Promise<number>;
  close(): Promise<void>;
}

/** Reads exactly `into.length` bytes (fewer only at the end of the source). */
export async function readFully(source: ByteSource, offset: number, into: Uint8Array): Promise<number> {
  let done = 0;
  while (done < into.length) {
    const n = await source.read(offset + done, into.subarray(done));
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/** A copy of the bytes in [start, end). */
export async function readRange(source: ByteSource, start: number, end: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(end - start);
  await readFully(source, start, bytes);
  return bytes;
}
