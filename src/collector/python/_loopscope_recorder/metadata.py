# The trace's metadata: how each part was recorded (intervals, sampling rules, what each series
# means) and what it cost, so that the analysis and a reader can judge the numbers.

import os
import sys

from .heap import HEAP_BURST_US, HEAP_CHECK_US, HEAP_DUTY, HEAP_FRAMES, HEAP_GROWTH_BYTES, HEAP_PERIOD_US, HEAP_WINDOW_US
from .series import HEARTBEAT_S, MEMORY_EVERY_US, SCHEDSTAT_TOLERANCE_NS
from .tasks import MAX_EVENTS, TASKS_EVERY, TASKS_FULL

FORMAT = 'loopscope-recording'
FORMAT_VERSION = 1


class Metadata:
    """The trace's metadata (a part of Recorder)."""

    def heap_metadata(self, end_us):
        heap = self.heap
        run = max(1.0, end_us - self.start_us)
        return {
            'file': self.heap_file,
            'sampler': 'tracemalloc on in windows: %d ms every %d ms, and while RSS grows by %d MB in %d ms or more, '
                       'at most %d%% of the run with reading the traces (at most %d ms saved up); a window records the blocks '
                       'allocated in it and still alive at its end; periodic windows scaled by period / window, growth '
                       'windows by the fast growth of RSS / its growth while they traced'
                       % (HEAP_WINDOW_US // 1000, HEAP_PERIOD_US // 1000, HEAP_GROWTH_BYTES >> 20, HEAP_CHECK_US // 1000,
                          int(HEAP_DUTY * 100), HEAP_BURST_US // 1000),
            'frames': HEAP_FRAMES,
            'windows': {'periodic': heap.windows[0], 'growth': heap.windows[1]},
            'tracedMs': round(heap.traced_us / 1000.0, 1),
            'tracedShare': round(heap.traced_us / run, 3),
            'readingTracesMs': round(heap.pause_us / 1000.0, 1),
            'longestWindowMs': round(heap.longest_us / 1000.0, 1),
            'growthTracedMs': round(heap.traced_growth_us / 1000.0, 1),
            'growthUntracedMs': round(heap.untraced_growth_us / 1000.0, 1),
            'growthTracedRssBytes': heap.traced_growth_bytes,
            'growthUntracedRssBytes': heap.untraced_growth_bytes,
            'growthScale': round(heap.growth_scale(), 2),
            'blocksTraced': heap.blocks,
            'samplingIntervalBytes': 0,
        }

    def metadata(self, end_us):
        late = sorted(d for _, d in self.drift)
        delay = {'resolutionMs': HEARTBEAT_S * 1000, 'count': len(late)}
        if late:
            pick = lambda q: late[min(len(late) - 1, int(q * len(late)))]  # noqa: E731
            delay.update(min=late[0], max=late[-1], mean=sum(late) / len(late), p50=pick(0.5), p90=pick(0.9), p99=pick(0.99))
        size = self.threadpool_size or min(32, (os.cpu_count() or 1) + 4)
        return {
            'format': FORMAT,
            'version': FORMAT_VERSION,
            'pid': self.pid,
            'ppid': os.getppid(),
            'python': sys.version.split()[0],
            'implementation': sys.implementation.name,
            'platform': sys.platform,
            'clock': {'unit': 'us', 'base': 'CLOCK_MONOTONIC (time.monotonic_ns), the clock of the CPU profile'},
            'cpuProfile': {
                'samplingIntervalUs': self.interval_us,
                'file': '%d.cpuprofile' % self.pid,
                'sampler': 'a thread reading sys._current_frames() of the main thread; samples in the selector are (idle); '
                           'a frame inside a call that released the GIL gets a native leaf named after the callee; '
                           'while the main thread has not run since the last sample (its CPU clock unchanged), its last stack is repeated',
            },
            'async': {
                'hooks': ['task factory', 'Handle._run (task steps)', 'run_in_executor'],
                'sampling': {
                    'rule': 'the first `full` tasks are traced with their awaits, then 1 in `every` (args.weight = every)',
                    'tasks': {'types': ['Task', 'await'], 'full': TASKS_FULL, 'every': TASKS_EVERY},
                },
                'recordedFromUs': self.start_us,
                'recordedUntilUs': end_us,
                'maxEvents': MAX_EVENTS,
                'droppedEvents': self.dropped,
                'callbacks': self.callbacks,
                'types': {k: ({'created': v['created'], 'traced': v['traced'], 'threadpool': True} if v['threadpool']
                              else {'created': v['created'], 'traced': v['traced']}) for k, v in self.types.items()},
            },
            'heapProfile': self.heap_metadata(end_us),
            'threadpool': {'size': size, 'source': 'the event loop\'s default executor (ThreadPoolExecutor)'},
            'eventLoopDelay': delay,
            'series': {
                'heartbeatMs': HEARTBEAT_S * 1000,
                'memoryEveryMs': MEMORY_EVERY_US / 1000,
                'counters': {
                    'timerDrift': 'lateMs: how much later than due the heartbeat timer (loop.call_at) ran',
                    'memory': 'rss from /proc/self/statm, bytes (heapUsed and heapTotal repeat it)',
                    'defaultExecutor': 'the default executor: jobs queued, workers busy, worker threads',
                    'schedstat': 'main thread cumulative onCpuNs and runQueueNs (/proc schedstat); off-CPU = elapsed - onCpu',
                },
            },
            'schedstat': {
                'available': bool(self.schedstat),
                'path': self.schedstat_path,
                'intervalUs': self.interval_us,
                'samples': len(self.schedstat) // 3,
                'note': 'samples on the straight line between their neighbours (within %d us) are not written' % (SCHEDSTAT_TOLERANCE_NS // 1000),
            },
        }
