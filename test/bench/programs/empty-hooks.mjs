// `npm run bench:collect` floor: async hooks that record nothing (init, before, after, and V8's
// settled hook, as the recorder uses), preloaded with --import. What Node's own async_hooks
// machinery costs a program before any recording.
import { createHook } from 'node:async_hooks';
import { promiseHooks } from 'node:v8';

let count = 0;
createHook({
  init() {
    count++;
  },
  before() {},
  after() {},
}).enable();
promiseHooks.onSettled(() => {});
process.on('exit', () => {
  if (count < 0) console.log(count);
});
