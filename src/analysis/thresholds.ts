// Every tuned number of the diagnosis, in one place, each with where it comes from.

export const THRESHOLDS = {
  /**
   * A busy stretch of the event loop at least this long is a blocking candidate. 50 ms is the
   * "long task" limit of the web platform (RAIL: respond to input within 100 ms, so no task may
   * hold the loop for more than 50 ms) and the delay at which an HTTP server's p99 visibly moves.
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
   * A timeline entry counts as idle (it breaks a busy stretch) when this share of it is idle. Exact
   * for entries of one stack; coarsened buckets of giant profiles mix both.
   */
  idleEntryShare: 0.1,
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
   * Context switching seen in a bare CPU profile: Node's scheduling machinery (microtask and
   * immediate queues, timers) plus the garbage collector take most of the loop's busy time, the
   * machinery alone a noticeable part of it. 200,000 tasks that each await one setImmediate
   * (test/programs/tiny-tasks.mjs, 9 recordings here) spend 13-20% in the machinery and 64-72% in
   * GC; a healthy I/O program spends under 5% in each; a GC-heavy program without tiny tasks has
   * the GC share but not the machinery share.
   */
  switchingBusyMs: 100,
  switchingOverheadShare: 0.5,
  switchingMachineryShare: 0.08,
  /** Above this overhead share (and busyMs) the finding is a warning, below it info. */
  switchingWarningShare: 0.7,
  switchingWarningBusyMs: 300,
} as const;
