// Profiled by @datadog/pprof's wall profiler, with CPU time and labels, as dd-trace runs it: hot()
// does three times the work of warm() on every tick (work, not wall time: on a loaded machine a
// spin of fixed wall time gets whatever CPU the scheduler leaves it). Writes the gzipped profile to argv[2] and,
// beside it (argv[2] + '.json'), each sample type's sum as the profiler's own objects hold them.
const pprof = require('@datadog/pprof');
const { writeFileSync } = require('node:fs');

function hot(n) { // @mark
  let x = 1;
  for (let i = 0; i < n; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

function warm(n) {
  let x = 1;
  for (let i = 0; i < n; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

const WORK = 500_000;
pprof.time.start({ intervalMicros: 1000, durationMillis: 60_000, withContexts: true, collectCpuTime: true });
let tick = 0;
const timer = setInterval(async () => {
  pprof.time.setContext({ span: `request-${tick}` });
  hot(3 * WORK);
  warm(WORK);
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
