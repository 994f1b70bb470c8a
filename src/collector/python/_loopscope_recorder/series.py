# Series over time, beside the CPU profile: the heartbeat's timer drift (its timer is set in
# asyncio_hooks.py), off-CPU time of the main thread from /proc schedstat and RSS (both read by the
# sampler), GC pauses (gc.callbacks), and the default executor's queue.

from .common import now_us

HEARTBEAT_S = 0.010
MEMORY_EVERY_US = 20000

# Scheduler samples on a straight line (all on the CPU, or all asleep) are dropped when written:
# the analysis interpolates between the samples kept, within this many nanoseconds.
SCHEDSTAT_TOLERANCE_NS = 20000


class Series:
    """The series the sampler and gc.callbacks feed (a part of Recorder)."""

    def sample_executor(self, t):
        loop = self.loop
        executor = getattr(loop, '_default_executor', None) if loop is not None else None
        if executor is None:
            return
        try:
            queued = executor._work_queue.qsize()
            workers = len(executor._threads)
            self.threadpool_size = executor._max_workers
        except Exception:
            return
        self.executor.append((t, queued, max(0, min(workers, self.jobs_in_flight - queued)), workers))

    def on_gc(self, phase, info):
        if phase == 'start':
            self.gc_start = now_us()
        elif self.gc_start:
            self.gc_pauses.append((self.gc_start, now_us() - self.gc_start, info.get('generation', -1)))


def straight_lines_dropped(samples):
    """The samples less those that lie on the line between their neighbours kept (cumulative counters)."""
    if len(samples) < 3:
        return samples
    kept = [samples[0]]
    for i in range(1, len(samples) - 1):
        t0, a0, b0 = kept[-1]
        t, a, b = samples[i]
        t1, a1, b1 = samples[i + 1]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        if abs(a0 + (a1 - a0) * f - a) > SCHEDSTAT_TOLERANCE_NS or abs(b0 + (b1 - b0) * f - b) > SCHEDSTAT_TOLERANCE_NS:
            kept.append(samples[i])
    kept.append(samples[-1])
    return kept
