// A synchronous sleep with Atomics.wait: V8 samples show the calling JavaScript frame.
function waiter(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // @mark
}
waiter(Number(process.argv[2] ?? 400));
