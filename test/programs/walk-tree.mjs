// A build step that walks a tree of small files (the directory in argv[2]), awaiting every
// readdir, stat and read one after another: a recursive walk, a function that makes its own tasks.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

async function walk(dir, sizes = []) {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await stat(path)).isDirectory()) await walk(path, sizes);
    else sizes.push((await readFile(path)).length); // @mark
  }
  return sizes;
}

console.log((await walk(process.argv[2])).length);
