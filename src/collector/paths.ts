// Recognises the recorder's own scripts in a profile or a stack, so that its work (async hooks, the
// heartbeat, the Python recorder's task hooks) is never taken for the program's code. Runs in the browser too: no Node imports.

/** The recorder's scripts, as built: `dist/src/collector/<name>.js`. */
export const COLLECTOR_SCRIPTS = [
  'preload',
  'async-trace',
  'series',
  'schedstat',
  'schedstat-worker',
  'clock',
  'trace-writer',
  'format',
  'paths',
] as const;

const COLLECTOR_URL = new RegExp(`[\\\\/]dist[\\\\/]src[\\\\/]collector[\\\\/](${COLLECTOR_SCRIPTS.join('|')})\\.js([?#].*)?$`);

/**
 * The Python recorder's modules, wherever the package is: `.../collector/python/sitecustomize.py` and
 * every module of its package `.../collector/python/_loopscope_recorder/<name>.py` (and
 * `_loopscope_recorder.py`, the single module recordings made before the package were made by).
 */
const PYTHON_COLLECTOR_URL = /[\\/]collector[\\/]python[\\/](sitecustomize\.py|_loopscope_recorder\.py|_loopscope_recorder[\\/]\w+\.py)$/;

/** True for a script URL (file://, or a plain path) of one of loopscope's recorder scripts. */
export function isCollectorUrl(url: string): boolean {
  return url.includes('collector') && (COLLECTOR_URL.test(url) || PYTHON_COLLECTOR_URL.test(url));
}
