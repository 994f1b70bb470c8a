# The heap profile: tracemalloc switched on in short windows (a twentieth of the run plus 50 ms,
# reading the traces included): every HEAP_PERIOD_US for HEAP_WINDOW_US, and whenever RSS grows fast
# outside imports, for as long as it keeps growing and the budget lasts. At each window's end the
# blocks allocated in it and still alive are added to a tree of (file, line) frames, outermost
# first. A periodic window stands for its period (sizes scaled by period / window), growth windows
# for all the fast growth of RSS (scaled by all of it / the growth while they traced).

from .common import is_own_file, now_us

# Heap sampling: traceback depth, periodic windows, growth windows, and the budget they share.
# One frame: each frame more costs about as much as the first (CPython 3.11, the benchmark's
# io_bound.py under tracemalloc all along: 2.5x the CPU with 1 frame, 3.3x with 2, 5x with 4).
HEAP_FRAMES = 1
HEAP_WINDOW_US = 10000
HEAP_PERIOD_US = 400000
HEAP_CHECK_US = 10000
HEAP_GROWTH_BYTES = 1 << 20  # RSS grown this much in HEAP_CHECK_US (100 MB/s) opens a growth window
HEAP_DUTY = 0.05  # tracing time earned per second of the run
HEAP_BURST_US = 50000  # the most tracing time saved up, and the budget at start


class HeapSampler:
    """
    tracemalloc in short windows, driven by the sampler thread's ticks (see HEAP_* above). Not
    used when the program traces allocations itself (tracemalloc already on, -X tracemalloc).
    """

    def __init__(self, is_user_file):
        try:
            import _tracemalloc as tracemalloc  # what tracemalloc.py re-exports, without its imports (pickle, ...)
        except ImportError:
            tracemalloc = None
        self.tm = tracemalloc
        self.enabled = tracemalloc is not None and not tracemalloc.is_tracing() and hasattr(tracemalloc, '_get_traces')
        self.is_user_file = is_user_file
        self.tracing = False
        self.periodic = False
        self.opened = 0.0
        self.window_end = 0.0
        self.last = None
        self.credit = HEAP_BURST_US
        self.next_period = 0.0
        self.checked = 0.0
        self.last_rss = None
        self.traced_us = 0.0
        self.pause_us = 0.0  # reading the traces, with the GIL held
        self.untraced_growth_us = 0.0  # time RSS grew fast outside the growth windows
        self.traced_growth_us = 0.0  # time the growth windows traced
        self.longest_us = 0.0  # the longest window (the sampler may get the GIL late to close one)
        self.traced_growth_bytes = 0  # RSS growth during the growth windows
        self.untraced_growth_bytes = 0  # RSS growth outside them, while it grew fast
        self.windows = [0, 0]  # periodic, growth
        self.nodes = {}  # (parent key, file, line) -> [periodic bytes (scaled), growth bytes, blocks]
        self.blocks = 0

    def tick(self, t, rss, leaf):
        """
        Called every sampler interval; `rss` reads the resident set size (or returns None), `leaf`
        is the main thread's frame (None when it has not run since the last tick: it imports
        nothing). Growth while it imports modules is their code, not the program's data: it opens no
        window.
        """
        if not self.enabled:
            return
        if not self.tracing and t - self.checked < HEAP_CHECK_US and t < self.next_period and self.last is not None:
            return  # nothing to do: the credit earned meanwhile is added at the next tick that acts
        if self.last is None:  # the first periodic window one period in, after the imports at start
            self.last = self.checked = t
            self.next_period = t + HEAP_PERIOD_US
            self.last_rss = rss()
            return
        elapsed = t - self.last
        self.last = t
        self.credit = min(HEAP_BURST_US, self.credit + elapsed * HEAP_DUTY)
        if self.tracing:
            self.credit -= elapsed
            self.traced_us += elapsed
            if not self.periodic:
                self.traced_growth_us += elapsed
            self.longest_us = max(self.longest_us, t - self.opened)
        growing = False
        if t - self.checked >= HEAP_CHECK_US or (self.tracing and t >= self.window_end):
            span = t - self.checked
            now = rss()
            growing = now is not None and self.last_rss is not None and now - self.last_rss >= HEAP_GROWTH_BYTES * span / HEAP_CHECK_US
            if growing and not self.tracing and _importing(leaf):
                growing = False
            if now is not None and self.last_rss is not None and (growing or self.tracing):
                if self.tracing and not self.periodic:
                    self.traced_growth_bytes += max(0, now - self.last_rss)
                elif growing:
                    self.untraced_growth_us += span
                    self.untraced_growth_bytes += now - self.last_rss
            self.last_rss = now
            self.checked = t
        if self.tracing:
            if t < self.window_end:
                return
            if growing and not self.periodic and self.credit >= HEAP_WINDOW_US:
                self.window_end = t + HEAP_WINDOW_US
                return
            self.close(t)
            return
        periodic = t >= self.next_period
        if (growing or periodic) and self.credit >= HEAP_WINDOW_US:
            if periodic:
                self.next_period = t + HEAP_PERIOD_US
            self.open(t, not growing)

    def open(self, t, periodic):
        if self.tm.is_tracing():  # the program started it: leave it to the program
            self.enabled = False
            return
        self.tm.start(HEAP_FRAMES)
        self.tracing = True
        self.periodic = periodic
        self.opened = t
        self.window_end = t + HEAP_WINDOW_US
        self.windows[0 if periodic else 1] += 1

    def close(self, t=None):
        if not self.tracing:
            return
        self.tracing = False
        started = now_us()
        try:
            traces = self.tm._get_traces()
        finally:
            self.tm.stop()
        # A periodic window stands for its period; growth windows are scaled when written.
        periodic = self.periodic
        weight = HEAP_PERIOD_US / max(HEAP_WINDOW_US, (t or started) - self.opened) if periodic else 1.0
        nodes = self.nodes
        user = self.is_user_file
        keys = {}  # id(traceback) -> node key: tracemalloc hands out one tuple per distinct traceback
        for trace in traces:
            frames = trace[2]  # innermost first
            key = keys.get(id(frames), False)
            if key is False:
                key = keys[id(frames)] = _node_key(frames, user, nodes)
            if key is None:
                continue
            node = nodes[key]
            if periodic:
                node[0] += trace[1] * weight
            else:
                node[1] += trace[1]
            node[2] += 1
            self.blocks += 1
        del traces, keys
        pause = now_us() - started
        self.pause_us += pause
        self.credit -= pause

    def forked(self):
        if self.tracing:
            self.tracing = False
            self.tm.stop()
        self.enabled = False

    def growth_scale(self):
        """
        Growth windows stand for all the fast growth of RSS: theirs and the untraced, by bytes (tracing
        slows allocation, so time would undercount), by time where RSS hardly grew while traced.
        """
        traced = self.traced_growth_bytes
        if traced >= HEAP_GROWTH_BYTES:
            return (traced + self.untraced_growth_bytes) / traced
        traced = self.traced_growth_us
        return (traced + self.untraced_growth_us) / traced if traced > 0 else 1.0

    def profile(self):
        """
        The V8 sampling heap profile, frames named by the functions their lines are in. `samples` is
        empty: the blocks were traced, not sampled one by one, and the sizes are estimates.
        """
        from .function_names import FunctionNames  # at exit only: it imports linecache

        names = FunctionNames({key[1] for key in self.nodes}, self.is_user_file)
        scale = self.growth_scale()
        script_ids = {}
        ids = {}
        head = {'callFrame': {'functionName': '(root)', 'scriptId': '0', 'url': '', 'lineNumber': -1, 'columnNumber': -1},
                'selfSize': 0, 'id': 1, 'children': []}
        made = {None: head}

        def depth(key):
            d = 0
            while key is not None:
                key = key[0]
                d += 1
            return d

        nodes = dict(self.nodes)
        for key in sorted(nodes, key=depth):  # parents before their children
            parent, filename, line = key
            periodic_bytes, growth_bytes, _ = nodes[key]
            script = script_ids.setdefault(filename, str(len(script_ids) + 1))
            node = {
                'callFrame': {'functionName': names.at(filename, line), 'scriptId': script, 'url': filename, 'lineNumber': line - 1, 'columnNumber': -1},
                'selfSize': int(round(periodic_bytes + growth_bytes * scale)),
                'id': len(ids) + 2,
                'children': [],
            }
            ids[key] = node['id']
            made[key] = node
            made[parent]['children'].append(node)
        return {'head': head, 'samples': []}


def _importing(frame):
    while frame is not None:
        if frame.f_code.co_filename.startswith('<frozen importlib'):
            return True
        frame = frame.f_back
    return False


def _node_key(frames, user, nodes):
    """
    The tree key of a traceback (innermost first), its nodes added; None for the recorder's own
    allocations (a recorder frame before any of the program's). The recorder's wrappers below the
    program's code are skipped, as in the CPU profile.
    """
    for filename, _ in frames:
        if is_own_file(filename):
            return None
        if user(filename):
            break
    key = None
    for filename, line in reversed(frames):
        if not is_own_file(filename):
            key = (key, filename, line)
            if key not in nodes:
                nodes[key] = [0.0, 0, 0]
    return key
