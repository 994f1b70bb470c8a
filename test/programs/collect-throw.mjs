// An uncaught exception in a timer callback: Node prints it and exits with 1.
setTimeout(() => {
  throw new Error('collect-throw: the program failed');
}, 20);
