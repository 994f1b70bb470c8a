// The event loop waits for a timer: idle time.
await new Promise((resolve) => setTimeout(resolve, Number(process.argv[2] ?? 400)));
