// Says it is ready, then computes without yielding for up to 5 s: signal handlers cannot run.
process.stdout.write(`ready ${process.pid}\n`);
const end = Date.now() + 5000;
while (Date.now() < end);
