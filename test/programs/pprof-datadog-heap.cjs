// Profiled by @datadog/pprof's heap profiler (V8's sampling heap profiler, written as pprof with
// objects/count and space/bytes): keep() holds far more memory than spare(). Writes the gzipped
// profile to argv[2] and, beside it, each sample type's sum as the profiler's own objects hold them.
const pprof = require('@datadog/pprof');
const { writeFileSync } = require('node:fs');

const kept = [];

function keep(n) { // @mark
  for (let i = 0; i < n; i++) kept.push({ i, values: new Array(32).fill(i) });
}

function spare(n) {
  for (let i = 0; i < n; i++) kept.push({ i });
}

pprof.heap.start(4096, 64);
keep(50_000);
spare(2_000);
const profile = pprof.heap.profile();
pprof.heap.stop();
const strings = profile.stringTable.strings;
const sums = {};
profile.sampleType.forEach((t, k) => {
  sums[`${strings[t.type]}/${strings[t.unit]}`] = profile.sample.reduce((sum, s) => sum + Number(s.value[k]), 0);
});
pprof.encode(profile).then((bytes) => {
  writeFileSync(process.argv[2], bytes);
  writeFileSync(`${process.argv[2]}.json`, JSON.stringify({ sums, kept: kept.length }));
});
