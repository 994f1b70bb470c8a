// A timer the program waits for: an async span from its creation to its callback, and idle time.
await new Promise((resolve) => {
  setTimeout(resolve, Number(process.argv[2] ?? 200)); // @mark
});
