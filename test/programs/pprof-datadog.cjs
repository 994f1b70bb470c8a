// Profiled by @datadog/pprof's wall profiler, with CPU time and labels, as dd-trace runs it: hot()
// spins three times as long as warm() on every tick. Writes the gzipped profile to argv[2] and,
// beside it (argv[2] + '.json'), each sample type's sum as the profiler's own objects hold them.
const pprof = require('@datadog/pprof');
const { writeFileSync } = require('node:fs');

function hot(ms) { // @mark
  const end = performance.now() + ms;
  let x = 1;
  while (performance.now() < end) for (let i = 0; i < 10000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

function warm(ms) {
  const end = performance.now() + ms;
  let x = 1;
  while (performance.now() < end) for (let i = 0; i < 10000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

pprof.time.start({ intervalMicros: 1000, durationMillis: 60_000, withContexts: true, collectCpuTime: true });
let tick = 0;
const timer = setInterval(async () => {
  pprof.time.setContext({ span: `request-${tick}` });
  hot(30);
  warm(10);
  if (++tick < 10) return;
  clearInterval(timer);
  const labels = ({ context }) => ({ 'thread name': 'Main Event Loop', 'thread id': '0', ...(context?.context?.span ? { span: context.context.span } : {}) });
  const profile = pprof.time.stop(false, labels);
  const strings = profile.stringTable.strings;
  const sums = {};
  profile.sampleType.forEach((t, k) => {
    sums[strings[t.type]] = profile.sample.reduce((sum, s) => sum + Number(s.value[k]), 0);
  });
  writeFileSync(process.argv[2], await pprof.encode(profile));
  writeFileSync(`${process.argv[2]}.json`, JSON.stringify({ sums, labelled: profile.sample.filter((s) => s.label.length).length }));
}, 50);
