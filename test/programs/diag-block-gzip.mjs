// A report compressed with gzipSync before it is sent: the compression holds the event loop.
import { gzipSync } from 'node:zlib';

function buildReport(rows) {
  const lines = [];
  for (let i = 0; i < rows; i++) lines.push(`${i},${(i * 7919) % 104729},item-${(i * 31) % 977},${Math.sin(i).toFixed(6)}`);
  return lines.join('\n');
}

async function sendReport(rows) {
  const text = buildReport(rows);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const body = gzipSync(text, { level: 9 }); // @mark
  return body.length;
}

console.log(await sendReport(Number(process.argv[2] ?? 250000)));
