// Promise-heavy: 3 million sequential awaits.
async function step(i) {
  return i + 1;
}
let x = 0;
for (let i = 0; i < Number(process.argv[2] ?? 3_000_000); i++) x = await step(x);
console.log(x);
