// Every tuned number of the diagnosis, in one place, each with where it comes from.
//
// "Measured" below means: the programs of test/programs/diag-*.mjs recorded with `loopscope collect`
// on the 2-core development machine, 3 recordings each on an idle machine and 2 each with two
// CPU-bound processes running beside them (4 runnable threads on 2 cores), Node 20.

export const THRESHOLDS = {
  // ---- blocking ----
  /**
   * A busy stretch of the event loop at least this long is a blocking candidate. 50 ms is the
   * "long task" limit of the web platform (RAIL: respond to input within 100 ms, so no task may
   * hold the loop for more than 50 ms) and the delay at which an HTTP server's p99 visibly moves.
   * With a recording, the stretch's time loading code on first use, the recorder's own work and
   * the time it waited for a CPU are left out first (measured: the first fetch() of a healthy
   * program is a 52-77 ms stretch, 37 ms of it compiling undici, 20-40 ms the recorder's hooks).
   */
  blockingStretchMs: 50,
  /** One call site must account for this share of a stretch to be its culprit. */
  culpritShare: 0.5,
  /**
   * Blocking severity. critical: one stretch of 200 ms or more (four long tasks in a row: a server
   * stops answering for a visible moment), or warning-level stretches adding up to 30% of the wall time.
   * warning: a stretch of 100 ms or more (RAIL's budget for a response), or the same culprit in
   * blockingRepeats stretches. Anything else is info: a single 50-100 ms stretch is what loading
   * a library on first use costs (the first fetch() compiles undici: 20-40 ms here, double that on
   * a loaded machine), not a bottleneck.
   */
  blockingCriticalStretchMs: 200,
  blockingCriticalShare: 0.3,
  blockingWarningStretchMs: 100,
  blockingRepeats: 3,
  /**
   * Off-CPU share of a blocking stretch (asleep, not waiting for a CPU) above which it is a
   * synchronous wait rather than computation. Measured: Atomics.wait 0.90-0.96 and readFileSync of
   * a pipe 0.79-0.98 (lower under load); scryptSync, gzipSync and a CPU loop 0.00-0.11.
   */
  offCpuShare: 0.5,
  /**
   * A timeline entry counts as idle (it breaks a busy stretch) when this share of it is idle. Exact
   * for entries of one stack; coarsened buckets of giant profiles mix both.
   */
  idleEntryShare: 0.1,

  // ---- the tasks of a busy stretch, from a recording (src/analysis/recorded.ts) ----
  /**
   * A busy stretch is "many short tasks" (no single synchronous call to blame: starvation or
   * context switching, not blocking) when at least manyTasksMin callbacks cover manyTasksCoverage of
   * it and half the callback time is in callbacks shorter than shortTaskMs of CPU (their duration
   * less the share the stretch spent waiting for a CPU). Measured time-weighted median callback:
   * 0.005-0.7 ms in the await-null and nextTick loops (idle and loaded machine), 22-28 ms for
   * scryptSync per request, 84-99 ms for the CPU loop, 137-636 ms for gzipSync. Coverage of the
   * starving stretches: 0.73-1.
   */
  manyTasksMin: 20,
  shortTaskMs: 10,
  manyTasksCoverage: 0.3,
  /** A heartbeat due this close after a stretch's end still counts as held up by it (the heartbeat period is 10 ms). */
  heartbeatSlackMs: 2,
  /** Counting pending resources of one site stops here: past it, it is a fan-out whatever the exact number. */
  concurrencyCap: 64,
  /** Lines after a function's start searched for the call a profile names (V8 records no call-site line). */
  callSearchLines: 60,

  // ---- sequential ----
  /**
   * Sequential awaits seen in a bare CPU profile: at least this many idle gaps of at least
   * sequentialGapMs, each followed by a short burst of work from the same call site.
   */
  sequentialMinGaps: 4,
  sequentialGapMs: 5,
  /** A burst between two waits longer than this is work, not the resumption of an await. */
  sequentialBurstMs: 20,
  /** The waits must cover this share of the wall time for the pattern to matter. */
  sequentialIdleShare: 0.3,
  /**
   * From a recording: a resource's wait shorter than this is not an await worth reporting (internal
   * promises settled in the same tick live 0.01-0.5 ms; the requests, timers and pipe reads of the
   * sequential programs 50-190 ms).
   */
  sequentialMinWaitMs: 2,
  /**
   * Where a line has no train of such waits, shorter ones down to this: a local file read or stat
   * waits 0.1-0.5 ms on the thread pool (18,000 reads one after another took 2.5 s of a 3.5 s run).
   */
  sequentialShortWaitMs: 0.2,
  /**
   * ...where the loop must sit idle for this share of them: a read of a file is four trips to the
   * thread pool with JavaScript (and the recorder's hooks) between them. Measured: 0.52-0.67 on
   * test/programs/diag-seq-reads.mjs (6 recordings), where awaits that never leave the loop (a
   * microtask chain) are ~0.
   */
  sequentialShortIdleDuringWaits: 0.3,
  /**
   * An episode (waits merged where they overlap) in which the loop sat idle for less than this
   * share is not a wait: with the machine loaded by three busy processes, the step that starts the
   * next batch of test/programs/diag-seq-batches.mjs stretched to 3 and 13 ms and counted as two
   * more batches.
   */
  sequentialEpisodeIdleShare: 0.1,
  /**
   * A wait that starts less than this before its episode's last end, after all its other waits
   * ended, is the next step, not a concurrent one: the await that gathered a batch settles up to
   * 0.1 ms after its continuation has started the next batch (test/programs/diag-seq-batches.mjs).
   * Concurrent loops in lockstep (eight workers' 20 ms sleeps, traces/python/healthy_sleep.py)
   * restart each while the others' waits are still ending: they stay one episode.
   */
  sequentialTouchMs: 1,
  /** At least this many non-overlapping waits from one site: fewer is two steps of a procedure, not a loop. */
  sequentialMinWaits: 3,
  /**
   * The loop must sit idle for this share of the waits. Measured: 0.80-0.998 in the sequential
   * programs (0.70 once under load), where a worker-thread wait with the loop busy would be ~0.
   */
  sequentialIdleDuringWaits: 0.5,
  /**
   * Reported at all when starting the waits together would save this much (sum of the waits less
   * the longest): the long-task budget. Measured on the healthy Promise.all program: one episode
   * of overlapping requests plus 2 short waits of a few ms at one site, 5 ms to save.
   */
  sequentialMinImpactMs: 50,
  /**
   * Severity by the waits' share of the wall time. Measured: 0.60-0.97 in the sequential programs
   * (the fetch loop lowest: its child-process server starts first).
   */
  sequentialWarningShare: 0.25,
  sequentialCriticalShare: 0.5,
  /**
   * ...or by the time at stake alone, as for blocking (RAIL's 100 ms response budget; 500 ms, a
   * visible pause): on a loaded machine the fetch loop's child-process server took seconds to
   * start, and the ten 65 ms requests (600 ms to save) were only 16% of the run.
   */
  sequentialWarningImpactMs: 100,
  sequentialCriticalImpactMs: 500,
  /** Two sites whose episodes overlap for this share of the shorter one's waits are one train (one await, seen at several lines). */
  sequentialSameTrain: 0.6,

  // ---- context switching ----
  /**
   * Share of the spawning line's tasks (weighted) created inside library calls (not Node's
   * scheduling APIs) above which they are that library's own: `fetch` at the I/O-bound benchmark's
   * line 20, 100% of its resources (the `text()` and `fetch()` calls); the context-switching
   * programs (Promise.all of async functions, setImmediate per item): 0%.
   */
  switchingLibraryShare: 0.5,
  /**
   * Context switching seen in a bare CPU profile: Node's scheduling machinery (microtask and
   * immediate queues, timers) plus the garbage collector take most of the loop's busy time, the
   * machinery alone a noticeable part of it. 200,000 tasks that each await one setImmediate
   * (test/programs/tiny-tasks.mjs, 9 recordings here) spend 13-20% in the machinery and 64-72% in
   * GC, and on a machine loaded by two busy processes (5 recordings) 9-24% and 67-80%: GC grows
   * under load, so the machinery share is only required to be small, and at least half the user
   * code's own time (7-12% of the busy time there: the machinery takes 1.5-2.8x that). A healthy
   * I/O program spends under 5% in each; a GC-heavy program without tiny tasks has the GC share
   * but its own code, not the machinery, runs between collections.
   */
  switchingBusyMs: 100,
  switchingOverheadShare: 0.5,
  switchingMachineryShare: 0.05,
  switchingMachineryOverUser: 0.5,
  /**
   * The GC must take at least this share of the busy time: tiny tasks allocate a promise or two
   * each, 64-80% GC in the recordings above. Concurrent fetches (test/programs/sequential-awaits.mjs,
   * on a loaded machine) reach 54-65% machinery (undici runs under the tick queue) but 4-6% GC,
   * and on a machine with a load average of 8-13 on its 2 cores once 45% machinery and 35% GC: the
   * bar sits well above that and well below the tiny tasks' 64%.
   */
  switchingGcShare: 0.45,
  /** Above this overhead share (and busyMs) the finding is a warning, below it info. */
  switchingWarningShare: 0.7,
  switchingWarningBusyMs: 300,
  /**
   * From a recording (tasks counted, not inferred), leaving the recorder's hooks out of the busy
   * time: at least switchingMinTasks tasks (callbacks run or resources created), at least
   * switchingMinRate per second of CPU, and everything but the program's own JavaScript (its
   * dependencies included) at least switchingOverheadShare of the busy time. Measured rates:
   * 0.86-2.7 M/s for the three tiny-task programs (idle and loaded); healthy programs 9-70 k/s
   * (streaming a 24 MB or 200 MB file the highest, 5,200 and 20,000 tasks). Non-user share: 0.82-0.92
   * in the tiny-task programs, but close to 1 in most I/O programs too, so the rate decides.
   */
  switchingTraceBusyMs: 50,
  switchingMinTasks: 10_000,
  switchingMinRate: 250_000,
  /**
   * The same for a Python recording: asyncio's loop costs several microseconds per task in Python
   * code of its own, so the rate is lower for the same pattern. Measured on traces/python/
   * context_switching.py (100,000 tasks awaiting asyncio.sleep(0.0001), recorded): 260 k/s idle,
   * 34 k/s with the 2-core machine at a load of 14; the healthy examples create under 100 tasks.
   */
  switchingMinRatePython: 20_000,
  /** A warning once the scheduling overhead itself reaches this (the long-task budget, as for blocking); measured 90-380 ms in the tiny-task programs. */
  switchingTraceWarningMs: 50,
  switchingCriticalShare: 0.8,
  switchingCriticalBusyMs: 1000,
  /** Creation sites with at least this share of the busiest site's resources take part in finding the spawn site. */
  switchingBusySiteShare: 0.1,
  /**
   * A spawning line outside the task function made at least this share of the busiest site's
   * resources: 12,000 calls of a promise-chain function next to its 480,000 steps (2.5%), where a
   * function awaiting 18,000 reads in a loop has one call from outside next to 300,000 resources.
   */
  switchingSpawnerShare: 0.01,
  /**
   * A gathering site needs this many resources triggered by the tasks' own. Past the recorder's cap
   * both ends are traced 1 in 256 independently: 100,000 tasks gathered by Promise.all leave 10-15
   * such links in a recording (traces/context-switching).
   */
  switchingGatherLinks: 5,

  // ---- starvation ----
  /**
   * The loop: timers that fell due during a stretch of many short tasks were held up at least this
   * long (the long-task budget). Measured: 259-967 ms in the await-null and nextTick loops.
   */
  starvationLateMs: 50,
  /**
   * ...and the stretch's busiest creation site never had more than this many resources pending at
   * once: one task re-queueing itself (measured 1), not a fan-out of many (measured: capped at 65 in
   * every tiny-task program).
   */
  starvationMaxConcurrency: 4,
  /** Severity by the longest hold-up, as for blocking stretches. */
  starvationWarningLateMs: 100,
  starvationCriticalLateMs: 200,
  /**
   * The thread pool: a job queued this long, and this many times its own run time (at least
   * poolMinRunMs), was starved. Measured: the quick file read or stat queued 150-760 ms behind
   * pbkdf2/scrypt jobs of 46-192 ms; in the healthy bounded-concurrency program no job queued.
   */
  poolQueuedMs: 20,
  poolQueueRatio: 4,
  poolMinRunMs: 1,
  /** Starved jobs looked at to find who held the workers (the most queued first): a bound on the work, not a tuned number. */
  poolVictimsScanned: 500,

  // ---- memory ----
  /**
   * Heap used + external memory of a fresh Node 20 process with the recorder: measured 7.7-9.5 MB
   * at the first memory sample of programs that allocate nothing yet. Growth is counted from the
   * lower of this and the recording's own minimum, since a program that allocates before the first
   * sample (20 ms in) never shows its low point.
   */
  memoryFreshProcessBytes: 8 << 20,
  /**
   * Growth worth an info finding, a warning (with concurrent holders), critical (with concurrent
   * holders), and a warning without them. Measured growth: healthy programs 1-7 MB (24 MB streaming
   * a 200 MB file), 37-114 MB for 100-200 k pending tiny tasks (which are context switching: 1 KB
   * or less each), 159-168 MB for 30-40 tasks each holding 4-6 MB.
   */
  memoryInfoBytes: 16 << 20,
  memoryWarningBytes: 32 << 20,
  memoryCriticalBytes: 128 << 20,
  memoryAloneWarningBytes: 256 << 20,
  /**
   * "Concurrent tasks each holding large data": this many waiting at one await, each holding at
   * least this much (tiny tasks hold under 1 KB each; the memory programs 4-14 MB).
   */
  memoryMinConcurrent: 4,
  memoryMinPerTaskBytes: 256 << 10,
  /** The holders are counted when memory first reached this share of its peak growth (it stays up after the tasks end, until a GC). */
  memoryPeakReached: 0.9,
  /**
   * A Python heap profile (tracemalloc in windows, so it may miss a burst) names the allocation when
   * its top site holds at least this share of the growth; below, the source names it instead.
   * Measured (estimated bytes of the top site / growth): memory_tasks.py 96%, the article's
   * 05_memory.py 99%, test/programs/python/alloc_helper.py 84%; a run whose windows missed the
   * growth (memory_tasks.py, no growth window): 0.1 MB of 216 MB.
   */
  memoryPythonHeapSiteMinShare: 0.1,

  // ---- profiles without a time order (src/analysis/untimed.ts) ----
  /**
   * A blocking call found by its share of an untimed profile (pprof, folded stacks): system time
   * (a native call, a runtime's synchronous API) charged to one line of the program, at least this
   * share of the whole profile; a warning from the second share (never critical: how long one call
   * lasted is unknown). Measured by reading V8 profiles of the diag programs (node --cpu-prof) as
   * if untimed: the blocking calls take 0.71-0.99 (gzipSync, readFileSync of a pipe, scryptSync);
   * in the healthy and non-blocking programs the largest share is 0.097 (the first fetch() loading
   * undici), 0.079, 0.071 (rmSync of a temporary directory), except 0.33 for diag-ok-pool's
   * writeFileSync of its 40 input files, which the timed detector reports as well. Atomics.wait and
   * CPU-bound JavaScript show as the program's own code (user time), not as a call.
   */
  untimedBlockingShare: 0.2,
  untimedBlockingWarningShare: 0.5,
} as const;
