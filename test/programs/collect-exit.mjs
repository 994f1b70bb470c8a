// Ends with process.exit(code) while a timer is still pending.
setTimeout(() => {}, 10_000);
await new Promise((resolve) => setTimeout(resolve, 20));
process.exit(Number(process.argv[2] ?? 3));
