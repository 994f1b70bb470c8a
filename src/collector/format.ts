// The shape of a recording directory written by `loopscope collect`, shared by the recorders that
// run inside each Node or Python process (the Python one, src/collector/python/, writes the same
// shapes), the `collect` command and `readRecording`. No I/O here.

/** The manifest's name and format version. */
export const MANIFEST = 'recording.json';
export const FORMAT = 'loopscope-recording';
export const FORMAT_VERSION = 1;

/** The files a recorded process writes, named by its pid. */
export const fileNames = (pid: number) => ({
  cpuprofile: `${pid}.cpuprofile`,
  trace: `${pid}.trace.json`,
  heapprofile: `${pid}.heapprofile`,
  /** Written at start and rewritten at the end; `collect` merges them into the manifest and removes them. */
  process: `${pid}.process.json`,
});

/** Every file name a recording may hold (the manifest excepted). */
export const RECORDING_FILE = /^\d+\.(cpuprofile|trace\.json|heapprofile|process\.json)$/;

/** Environment variable that carries the nearest recorded ancestor's pid to child processes. */
export const PARENT_ENV = 'LOOPSCOPE_RECORDED_PARENT';

/** What one recorded process says about itself (`<pid>.process.json`). */
export interface ProcessRecord {
  pid: number;
  /** The operating system's parent pid. */
  ppid: number;
  /** The nearest ancestor that was recorded too (through shells and non-Node programs); null for the first. */
  recordedParent: number | null;
  /** `process.argv`: the node (or python) executable, the script, its arguments. */
  argv: string[];
  /** Node's own options (`process.execArgv`; NODE_OPTIONS not included), or Python's (`-X dev`, `-u`). */
  execArgv: string[];
  /** What ran it, when not Node: "python 3.11.7". */
  runtime?: string;
  cwd: string;
  /** Wall clock, ISO 8601, when recording started. */
  startTime: string;
  /** When recording started, on the profile's clock (µs of the monotonic clock V8 and process.hrtime use). */
  startUs: number;
  /** Set when the files were written; a process without it ended before it could write them. */
  endTime?: string;
  endUs?: number;
  /** How it ended: an exit code, or the signal it was killed by (then `exitCode` is null). */
  exitCode?: number | null;
  signal?: string | null;
  /** Files written, relative to the recording directory; present only once complete. */
  files?: { cpuprofile: string; trace: string; heapprofile?: string };
}

/** One process in the manifest. */
export interface ManifestProcess extends ProcessRecord {
  /** The files were all written (the process did not die of SIGKILL, a crash or an abort first). */
  complete: boolean;
  /** npm, npx, yarn, pnpm or corepack: a package manager that starts the program. */
  launcher: boolean;
}

export interface Manifest {
  format: typeof FORMAT;
  version: number;
  /** The command `collect` ran, as given. */
  command: string[];
  cwd: string;
  startTime: string;
  endTime: string;
  /** How the command ended: exit code, or the signal that killed it. */
  exitCode: number | null;
  signal: string | null;
  /** CPU sampling interval (µs). */
  intervalUs: number;
  /** The process to analyse: the first recorded process that is not a package manager. */
  main: number | null;
  /** Directory of the recorder's scripts: their frames in a profile are loopscope's, not the program's. */
  collectorDir: string;
  /** In start order. */
  processes: ManifestProcess[];
}

/** Package managers whose own process is recorded but is not the program. */
export function isLauncher(argv: string[]): boolean {
  const script = argv[1] ?? '';
  return /(^|[\\/])(npm|npx|yarn|yarnpkg|pnpm|pnpx|corepack)(-cli)?(\.[cm]?js)?$/.test(script);
}
