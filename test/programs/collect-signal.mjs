// Says it is ready, then waits until a signal ends it (at most 5 s).
setTimeout(() => {}, 5000);
process.stdout.write(`ready ${process.pid}\n`);
