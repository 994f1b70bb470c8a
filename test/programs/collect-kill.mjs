// Killed by SIGKILL: nothing can run at the end, so the recording stays incomplete.
await new Promise((resolve) => setTimeout(resolve, 20));
process.kill(process.pid, 'SIGKILL');
