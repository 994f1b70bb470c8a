// Chrome's trace event format (chrome://tracing, DevTools performance exports, Node's
// `--trace-events-enabled` node_trace.*.log, loopscope's own collector trace): a JSON array of
// events, or an object whose `traceEvents` holds it. The array form may lack its closing ']'.
//
// One thread becomes the profile:
//   - pass 1 reads every event once (reader.ts) and keeps only what is small: thread and process
//     names, the stack nodes of embedded CPU profiles and where their chunks' samples lie, and a
//     count of each thread's duration events; only metadata and profile events are parsed, the
//     others are told apart by the bytes of their "ph", "name", "pid" and "tid";
//   - the thread: `--thread` (a name, a tid, or pid:tid), else the main thread: threads with
//     samples (an embedded CPU profile, or the format's own `samples`) before the others; within
//     each group the thread named CrRendererMain, JavaScriptMainThread (Node) or main (loopscope's
//     collector), else the one with the most samples, then the most duration events;
//   - pass 2: a CPU profile's samples go through the core like a .cpuprofile's (V8's (idle),
//     (program) and (garbage collector) keep their meaning, cpu.ts); `samples` with `stackFrames`
//     are read again (samples.ts), as are the duration events of a thread that has nothing else
//     (slices.ts).

import type { ByteSource } from '../../core/source.js';
import { readFully } from '../../core/source.js';
import type { Core } from '../../core/wasm.js';
import { InputError, type ImportOptions, type Profile } from '../../model.js';
import { parseValue, type JsonValue } from '../json-scan.js';
import { EmbeddedProfile, importEmbeddedProfile } from './cpu.js';
import { ID, jsonBytes, NAME, PID, readEvents, TID, type EventArray, type ReadSummary, type TraceEvent } from './reader.js';
import { StackSamples } from './samples.js';
import { SliceEvents } from './slices.js';

type Obj = Record<string, unknown>;

// Phases (the first character of "ph") and the names of the CPU profile's events.
const B = 0x42;
const E = 0x45;
const X = 0x58;
const M = 0x4d;
const PROFILE = jsonBytes('Profile');
const PROFILE_CHUNK = jsonBytes('ProfileChunk');
const CPU_PROFILE = jsonBytes('CpuProfile');

/** Thread names that mean "the program's main thread", best first. */
const MAIN_THREAD_NAMES = ['CrRendererMain', 'JavaScriptMainThread', 'main'];

interface Thread {
  key: string; // pid:tid
  pid: string;
  tid: string;
  name: string;
  slices: number;
  /** Entries of the top-level `samples` array (the format's own sampled profiles). */
  sampled: number;
  /** The largest CPU profile of the thread, if any. */
  profile?: EmbeddedProfile;
}

/** What pass 1 keeps. */
interface Inventory {
  threads: Map<string, Thread>;
  processNames: Map<string, string>;
  summary: ReadSummary;
  /** The top-level `samples` array, when there are `stackFrames` too. */
  samplesArray?: EventArray;
  /** CPU profile chunks whose `Profile` event never came. */
  orphan?: EmbeddedProfile;
}

/** `keys`: the top-level keys of the object form; undefined for the array form. */
export async function importTraceEvents(
  source: ByteSource,
  core: Core,
  options: ImportOptions = {},
  keys?: Map<string, JsonValue>,
): Promise<Profile> {
  const name = source.name;
  const array = keys ? objectArray(name, keys) : await bareArray(source);
  const { threads, processNames, summary, samplesArray, orphan } = await takeInventory(source, core, array, keys);
  const candidates = [...threads.values()].filter((t) => t.profile || t.sampled > 0 || t.slices > 0);
  if (candidates.length === 0) {
    if (orphan) throw new InputError(`${name}: Chrome trace events: ProfileChunk events of profile ${orphan.id} without its Profile event`);
    throw new InputError(`${name}: Chrome trace events: no CPU profile and no duration (B/E/X) events in ${summary.events} events`);
  }

  const thread = chooseThread(name, candidates, options.thread);
  const processName = processNames.get(thread.pid);
  const label = `${thread.name ? `"${thread.name}" ` : ''}(${processName ? `${processName}, ` : ''}pid ${thread.pid}, tid ${thread.tid})`;
  const note = formNote(summary);

  // Pass 2.
  if (thread.profile) {
    return importEmbeddedProfile(source, core, thread.profile, `Chrome trace, CPU profile of thread ${label}${note}`);
  }
  if (thread.sampled > 0 && samplesArray) {
    const stackFrames = (await parseValue(source, 'stackFrames', keys!.get('stackFrames')!)) as Record<string, unknown>;
    const samples = new StackSamples(stackFrames, name);
    await readEvents(source, core, samplesArray, (event) => {
      if (isOnThread(event, thread)) samples.add(event.parse() as Obj);
    });
    return samples.finish(core, `Chrome trace, samples of thread ${label}${note}`);
  }
  const slices = new SliceEvents();
  await readEvents(source, core, array, (event) => {
    // Only the thread's B, E and X events matter now: the others are not parsed again.
    const ph = event.phase();
    if ((ph === B || ph === E || ph === X) && isOnThread(event, thread)) slices.add(event.parse() as Obj);
  });
  return slices.finish(core, name, `Chrome trace, duration events of thread ${label}${note}`);
}

/** Pass 1: every event once; threads, their names and what each has to offer. */
async function takeInventory(source: ByteSource, core: Core, array: EventArray, keys?: Map<string, JsonValue>): Promise<Inventory> {
  const name = source.name;
  const threads = new Map<string, Thread>();
  const processNames = new Map<string, string>();
  const profiles = new Map<string, EmbeddedProfile>();
  let wholeProfiles = 0;
  const threadAt = (pid: string, tid: string): Thread => {
    const key = `${pid}:${tid}`;
    let thread = threads.get(key);
    if (!thread) threads.set(key, (thread = { key, pid, tid, name: '', slices: 0, sampled: 0 }));
    return thread;
  };
  const threadOf = (e: Obj) => threadAt(String(e.pid ?? ''), String(e.tid ?? ''));
  const profileOf = (pid: string, id: string): EmbeddedProfile => {
    let profile = profiles.get(`${pid}:${id}`);
    if (!profile) profiles.set(`${pid}:${id}`, (profile = new EmbeddedProfile(id)));
    return profile;
  };
  let [lastPid, lastTid, lastThread] = [-1, -1, undefined as Thread | undefined];
  const summary = await readEvents(source, core, array, (event) => {
    const ph = event.phase();
    if (ph === B || ph === E || ph === X) {
      // Most events come from the thread of the one before: known by the digits of pid and tid.
      const pid = event.digits(PID);
      const tid = event.digits(TID);
      if (pid < 0 || tid < 0 || pid !== lastPid || tid !== lastTid) {
        lastThread = threadAt(event.string(PID), event.string(TID));
        [lastPid, lastTid] = pid < 0 || tid < 0 ? [-1, -1] : [pid, tid];
      }
      lastThread!.slices++;
      return;
    }
    if (ph === M) {
      const e = event.parse() as Obj;
      const label = (e.args as Obj | undefined)?.name;
      if (typeof label !== 'string') return;
      if (e.name === 'thread_name') threadOf(e).name = label;
      else if (e.name === 'process_name') processNames.set(String(e.pid ?? ''), label);
    } else if (event.is(NAME, PROFILE_CHUNK)) {
      // A profile is known by its process and id; its chunks come from a profiler thread.
      const profile = profileOf(event.string(PID), event.string(ID));
      if (!profile.chunkFromBytes(event, name)) profile.chunk(event.parse() as Obj, event.start, event.end, name);
    } else if (event.is(NAME, PROFILE)) {
      const e = event.parse() as Obj;
      profileOf(String(e.pid ?? ''), String(e.id ?? '')).begin(e, threadOf(e).key);
    } else if (event.is(NAME, CPU_PROFILE)) {
      const profile = new EmbeddedProfile(`CpuProfile ${wholeProfiles + 1}`);
      profiles.set(`whole:${wholeProfiles++}`, profile);
      const e = event.parse() as Obj;
      profile.whole(e, event.start, event.end, threadOf(e).key, name);
    }
  });
  // The format's own samples, beside the events (Hermes writes them).
  const samples = keys?.get('samples');
  const samplesArray = samples?.first === '[' && keys?.get('stackFrames')?.first === '{' ? valueArray(samples) : undefined;
  if (samplesArray) {
    await readEvents(source, core, samplesArray, (event) => {
      threadAt(event.string(PID), event.string(TID)).sampled++;
    });
  }
  if (summary.events === 0 && !samplesArray) throw new InputError(`${name}: Chrome trace events: the event array is empty`);
  for (const profile of profiles.values()) {
    const thread = threads.get(profile.thread);
    if (thread && profile.samples > (thread.profile?.samples ?? 0)) thread.profile = profile;
  }
  const orphan = [...profiles.values()].find((p) => p.thread === '');
  return { threads, processNames, summary, samplesArray, orphan };
}

function isOnThread(event: TraceEvent, thread: Thread): boolean {
  return event.string(TID) === thread.tid && event.string(PID) === thread.pid;
}

function valueArray(value: JsonValue): EventArray {
  return { start: value.start + 1, end: value.end - 1, mayBeUnterminated: false };
}

/** The object form: `traceEvents` must be an array (the structural scan has checked the rest). */
function objectArray(name: string, keys: Map<string, JsonValue>): EventArray {
  const value = keys.get('traceEvents')!;
  if (value.first !== '[') throw new InputError(`${name}: "traceEvents" at byte ${value.start} is not an array`);
  return valueArray(value);
}

/** The array form: from the '[' to the end of the file. */
async function bareArray(source: ByteSource): Promise<EventArray> {
  const head = new Uint8Array(Math.min(4096, source.size));
  const n = await readFully(source, 0, head);
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0x5b) return { start: i + 1, end: source.size, mayBeUnterminated: true };
    if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf) break;
  }
  throw new InputError(`${source.name}: not a JSON array of trace events`);
}

function formNote(summary: ReadSummary): string {
  if (summary.droppedBytes > 0) return `, unterminated (an incomplete last event of ${summary.droppedBytes} bytes left out)`;
  return summary.unterminated ? ', unterminated' : '';
}

function describe(t: Thread): string {
  const what = t.profile ? `CPU profile, ${t.profile.samples} samples` : t.sampled ? `${t.sampled} samples` : `${t.slices} duration events`;
  return `${t.name ? `"${t.name}" ` : ''}(pid ${t.pid}, tid ${t.tid}: ${what})`;
}

const samplesOf = (t: Thread) => t.profile?.samples ?? t.sampled;

/** Sampled threads first; among them and then among the rest, main-thread names, then the busiest. */
function rank(a: Thread, b: Thread): number {
  const mainA = MAIN_THREAD_NAMES.indexOf(a.name);
  const mainB = MAIN_THREAD_NAMES.indexOf(b.name);
  return (
    Number(samplesOf(b) > 0) - Number(samplesOf(a) > 0) ||
    (mainA < 0 ? 99 : mainA) - (mainB < 0 ? 99 : mainB) ||
    samplesOf(b) - samplesOf(a) ||
    b.slices - a.slices
  );
}

function chooseThread(name: string, candidates: Thread[], wanted: string | undefined): Thread {
  const sorted = [...candidates].sort(rank);
  if (wanted === undefined || wanted === '') return sorted[0];
  const w = wanted.toLowerCase();
  const match = sorted.find((t) => t.name.toLowerCase() === w || t.tid === wanted || t.key === wanted);
  if (match) return match;
  const list = sorted.slice(0, 20).map(describe).join(', ');
  const more = sorted.length > 20 ? `, and ${sorted.length - 20} more` : '';
  throw new InputError(`${name}: --thread ${JSON.stringify(wanted)} matches no thread; threads with a profile or duration events: ${list}${more}`);
}
