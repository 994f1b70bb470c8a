// Thirty report tasks run at once; each builds all its rows in memory before it waits for the
// next stage (the seed example's large data per task).
import { setTimeout as delay } from 'node:timers/promises';

function loadRows(task) {
  return Array.from({ length: 60000 }, (_, k) => ({ task, k, label: `row ${k}` })); // @mark
}

async function reportTask(task) {
  await delay(task);
  const rows = loadRows(task);
  await delay(300);
  return rows.length;
}

const counts = await Promise.all(Array.from({ length: 30 }, (_, i) => reportTask(i)));
console.log(counts.length);
