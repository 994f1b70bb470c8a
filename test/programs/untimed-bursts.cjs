// Profiled by @datadog/pprof's wall profiler: hot() runs in bursts of about 30 ms with the loop
// idle for 20 ms between them, twenty times. A pprof profile keeps one total per stack, so nothing
// in it says the bursts were separate. Writes the gzipped profile to argv[2] and, beside it
// (argv[2] + '.json'), each call of hot() as measured by the program itself (ms).
const pprof = require('@datadog/pprof');
const { writeFileSync } = require('node:fs');
const { setTimeout: sleep } = require('node:timers/promises');

function hot(ms) { // @mark
  const end = performance.now() + ms;
  let x = 1;
  while (performance.now() < end) for (let i = 0; i < 10_000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

async function main() {
  pprof.time.start({ intervalMicros: 1000, durationMillis: 60_000 });
  const calls = [];
  for (let i = 0; i < 20; i++) {
    const start = performance.now();
    hot(30);
    calls.push(performance.now() - start);
    await sleep(20);
  }
  const profile = pprof.time.stop();
  writeFileSync(process.argv[2], await pprof.encode(profile));
  writeFileSync(`${process.argv[2]}.json`, JSON.stringify({ calls }));
}

main();
