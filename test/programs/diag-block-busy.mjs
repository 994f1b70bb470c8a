// A request handler that computes primes by trial division: CPU work on the event loop.
function countPrimes(limit) {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; } // @mark
    if (prime) count++;
  }
  return count;
}

async function handle(request) {
  await new Promise((resolve) => setImmediate(resolve));
  return countPrimes(request.limit);
}

const results = [];
for (const limit of [1_500_000, 1_500_000]) results.push(await handle({ limit }));
console.log(results);
