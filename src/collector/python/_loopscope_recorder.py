# The recorder for Python programs, started by sitecustomize.py beside it in every Python process
# `loopscope collect` runs. Standard library only, Python 3.8+. It writes the same files as the
# Node recorder (src/collector/format.ts), so `loopscope analyze` reads them unchanged:
#
# - <pid>.cpuprofile: V8's format. A thread samples the main thread's stack every interval
#   (sys._current_frames). A sample taken while the event loop waits in its selector is "(idle)";
#   one taken while the main thread is inside a call that released the GIL (time.sleep,
#   hashlib.pbkdf2_hmac, a blocking read) gets a native leaf frame named after the callee, so it
#   reads as system time of the calling line. Frames are per line: a node's lineNumber is the line
#   its frame was executing.
# - <pid>.trace.json: the collector's trace. asyncio tasks are async resources ("Task": created by
#   the task factory, resolved when done, one callback per step); each await a task suspends in is
#   one resource ("await") per frame of the program's own code in its await chain, from the step
#   that suspended it to the step that resumed it; run_in_executor jobs are thread-pool resources
#   ("executor"). Series: heartbeat timer drift, off-CPU time of the main thread
#   (/proc/self/task/<tid>/schedstat), RSS, GC pauses, the default executor's queue.
# - <pid>.heapprofile: V8's sampling heap profile shape, from tracemalloc switched on in short
#   windows (a twentieth of the run plus 50 ms, reading the traces included): every HEAP_PERIOD_US
#   for HEAP_WINDOW_US, and whenever RSS grows fast outside imports, for as long as it keeps growing
#   and the budget lasts. At each window's end the blocks allocated in it and still alive are added to a tree of
#   (file, line) frames, outermost first. A periodic window stands for its period (sizes scaled by
#   period / window), growth windows for all the fast growth of RSS (scaled by all of it / the
#   growth while they traced).
# - <pid>.process.json: who the process is and how it ended.
#
# Everything is written when the process ends: at exit (atexit, so also after sys.exit and an
# uncaught exception), or on SIGTERM / SIGHUP when the program does not handle them itself (written,
# then the signal is raised again with its default action). The recorder's own frames are kept
# out of the program's stacks: wrappers it installs are skipped below the program's code.

import atexit
import gc
from array import array
import json
import linecache
import os
import signal
import sys
import sysconfig
import threading
import time

FORMAT = 'loopscope-recording'
FORMAT_VERSION = 1
PARENT_ENV = 'LOOPSCOPE_RECORDED_PARENT'
HEARTBEAT_S = 0.010
MEMORY_EVERY_US = 20000
# A sampler that waited this much past its interval waited for the GIL: the main thread held it,
# running Python (or C code that keeps the GIL), not sitting in a call that released it.
GIL_WAIT_US = 1500
# Tasks: the first TASKS_FULL are traced with all their awaits, then 1 in TASKS_EVERY (weighted).
TASKS_FULL = 1000
TASKS_EVERY = 128
# Scheduler samples on a straight line (all on the CPU, or all asleep) are dropped when written:
# the analysis interpolates between the samples kept, within this many nanoseconds.
SCHEDSTAT_TOLERANCE_NS = 20000
MAX_EVENTS = 2000000
# Heap sampling: traceback depth, periodic windows, growth windows, and the budget they share.
# One frame: each frame more costs about as much as the first (CPython 3.11, the I/O-bound
# benchmark program under tracemalloc all along: 2.5x the CPU with 1 frame, 3.3x with 2, 5x with 4).
HEAP_FRAMES = 1
HEAP_WINDOW_US = 10000
HEAP_PERIOD_US = 400000
HEAP_CHECK_US = 10000
HEAP_GROWTH_BYTES = 1 << 20  # RSS grown this much in HEAP_CHECK_US (100 MB/s) opens a growth window
HEAP_DUTY = 0.05  # tracing time earned per second of the run
HEAP_BURST_US = 50000  # the most tracing time saved up, and the budget at start
CALL_OPS = frozenset(('CALL', 'PRECALL', 'CALL_FUNCTION', 'CALL_METHOD', 'CALL_FUNCTION_KW', 'CALL_FUNCTION_EX', 'CALL_KW'))

_now_ns = time.monotonic_ns  # CLOCK_MONOTONIC: the clock Node's profiles use too
HERE = os.path.dirname(os.path.abspath(__file__))


def _now_us():
    return _now_ns() / 1000.0


def _library_roots():
    roots = set()
    for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
        try:
            path = sysconfig.get_paths().get(key)
        except Exception:
            path = None
        if path:
            roots.add(os.path.join(os.path.abspath(path), ''))
    return tuple(roots)


class _Recorder:
    def __init__(self, out, interval_us):
        self.out = out
        self.interval_us = max(50, interval_us)
        self.pid = os.getpid()
        self.main_ident = threading.main_thread().ident
        self.finished = False
        self.stopping = False
        self.library_roots = _library_roots()
        self.user_files = {}
        # CPU profile: node 1 is (root); children keyed by (parent, code, line) or (parent, name).
        self.nodes = [None, (0, '(root)', '', -1)]
        self.node_index = {}
        self.idle_node = self._child(1, '(idle)')
        # Typed arrays: about 12 bytes a sample, so hours of recording stay in tens of megabytes.
        self.samples = array('i')
        self.times = array('d')
        self.callees = {}
        self.instructions = {}
        self.own_codes = {}
        # Trace.
        self.events = []
        self.dropped = 0
        self.next_id = 1
        self.types = {}
        self.sites = []
        self.site_index = {}
        self.task_count = 0
        self.tasks = {}  # id(task) -> [resource id, weight, open awaits]
        self.callbacks = 0
        self.drift = []
        self.memory = []
        self.gc_pauses = []
        self.executor = []
        self.schedstat = array('d')  # [t, onCpuNs, runQueueNs] triples
        self.schedstat_path = None
        self.loop = None
        self.jobs_in_flight = 0
        self.threadpool_size = None
        self.heap = _HeapSampler(self.is_user_file)

    # --- what is the program's code ---

    def is_user_file(self, filename):
        user = self.user_files.get(filename)
        if user is None:
            path = os.path.abspath(filename) if filename and not filename.startswith('<') else ''
            user = bool(path) and not path.startswith(self.library_roots) and os.path.dirname(path) != HERE
            user = user and '/site-packages/' not in path and '/dist-packages/' not in path
            self.user_files[filename] = user
        return user

    def site(self, frame):
        code = frame.f_code
        name = getattr(code, 'co_qualname', code.co_name)
        # f_lineno is None at instructions without a line (a frame just started): its def line then.
        line = frame.f_lineno or code.co_firstlineno
        key = (code.co_filename, line, name)
        index = self.site_index.get(key)
        if index is None:
            index = len(self.sites)
            self.site_index[key] = index
            self.sites.append((os.path.abspath(code.co_filename), line, name))
        return index

    def caller_site(self, frame):
        """
        The innermost frame of the program's own code from `frame` outwards, as a site. Inside a
        task step the stack ends at the loop (the recorder's step hook): a task that runs asyncio's
        code only (asyncio.to_thread, a gather's child) was started by the site that created it.
        """
        while frame is not None:
            filename = frame.f_code.co_filename
            if self.is_user_file(filename):
                return self.site(frame)
            if os.path.dirname(filename) == HERE:
                break
            frame = frame.f_back
        state = self.tasks.get(id(self.current_task()))
        return state[3] if state is not None else -1

    def type_of(self, name, pool=False):
        t = self.types.get(name)
        if t is None:
            t = self.types[name] = {'created': 0, 'traced': 0, 'threadpool': pool}
        return t

    def begin(self, type_name, trigger, site, weight, ts, pool=False, task=0):
        t = self.type_of(type_name, pool)
        t['created'] += weight
        t['traced'] += 1
        rid = self.next_id
        self.next_id += 1
        if len(self.events) >= MAX_EVENTS:
            self.dropped += 1
            return rid
        self.events.append(('b', rid, type_name, ts, trigger, site, weight, pool, task))
        return rid

    def event(self, e):
        if len(self.events) >= MAX_EVENTS:
            self.dropped += 1
        else:
            self.events.append(e)

    # --- CPU profile ---

    def _child(self, parent, name, url='', line=-1, key=None):
        key = (parent, name) if key is None else key
        node = self.node_index.get(key)
        if node is None:
            node = len(self.nodes)
            self.nodes.append((parent, name, url, line))
            self.node_index[key] = node
        return node

    def callee(self, code, lasti):
        """The name of the function a frame is calling (it sits at a call instruction), else None."""
        key = (code, lasti)
        name = self.callees.get(key, False)
        if name is not False:
            return name
        name = None
        table = self.instructions.get(code)
        if table is None:
            import dis

            table = self.instructions[code] = {i.offset: i for i in dis.get_instructions(code)}
        ins = table.get(lasti)
        if ins is not None and ins.opname in CALL_OPS:
            name = '(native call)'
            pos = getattr(ins, 'positions', None)
            if pos is not None and pos.lineno and pos.col_offset is not None:
                text = linecache.getline(code.co_filename, pos.lineno)
                head = text[pos.col_offset:].split('(', 1)[0].strip()
                if head and all(part.isidentifier() for part in head.split('.')):
                    name = head
            else:
                # Before 3.11: the name the call's callee was loaded by, the last one before it.
                for offset in sorted((o for o in table if o < lasti), reverse=True):
                    i = table[offset]
                    if i.opname in ('LOAD_METHOD', 'LOAD_ATTR', 'LOAD_GLOBAL', 'LOAD_NAME'):
                        name = str(i.argval)
                        break
        self.callees[key] = name
        return name

    def sample(self, leaf, t, gil_was_free):
        frames = []
        f = leaf
        own = True  # the recorder's frames count only at the top of the stack (its own work)
        mine_by_code = self.own_codes
        while f is not None:
            c = f.f_code
            mine = mine_by_code.get(c)
            if mine is None:
                mine = mine_by_code[c] = os.path.dirname(c.co_filename) == HERE
            if not mine:
                own = False
            if own or not mine:
                frames.append(f)
            f = f.f_back
        code = leaf.f_code
        if code.co_name == 'select' and code.co_filename.endswith('selectors.py'):
            node = self.idle_node
        else:
            node = 1
            index = self.node_index
            for f in reversed(frames):
                c = f.f_code
                key = (node, c, f.f_lineno or c.co_firstlineno)
                child = index.get(key)
                if child is None:
                    child = self._child(node, getattr(c, 'co_qualname', c.co_name), c.co_filename, key[2], key)
                node = child
            if gil_was_free and frames and frames[0] is leaf:
                name = self.callee(code, leaf.f_lasti)
                if name:
                    node = self._child(node, name)
        self.samples.append(node)
        self.times.append(t)

    def run_sampler(self):
        interval = self.interval_us / 1e6
        frames_of = sys._current_frames
        main = self.main_ident
        sched_fd = None
        if self.schedstat_path:
            try:
                sched_fd = os.open(self.schedstat_path, os.O_RDONLY)
            except OSError:
                sched_fd = None
        statm_fd = None
        try:
            statm_fd = os.open('/proc/self/statm', os.O_RDONLY)
        except OSError:
            pass
        page = os.sysconf('SC_PAGE_SIZE') if hasattr(os, 'sysconf') else 4096
        next_memory = 0

        def rss():
            try:
                return int(os.pread(statm_fd, 128, 0).split()[1]) * page
            except (OSError, ValueError, IndexError, TypeError):
                return None

        heap = self.heap
        while not self.stopping:
            before = _now_ns()
            time.sleep(interval)
            t = _now_ns() / 1000.0
            if self.stopping:
                break
            gil_was_free = t - before / 1000.0 - self.interval_us < GIL_WAIT_US
            leaf = frames_of().get(main)
            heap.tick(t, rss, leaf)
            if leaf is None:
                continue
            self.sample(leaf, t, gil_was_free)
            del leaf
            if sched_fd is not None:
                try:
                    on_cpu, run_queue = os.pread(sched_fd, 128, 0).split()[:2]
                    self.schedstat.extend((t, int(on_cpu), int(run_queue)))
                except (OSError, ValueError):
                    pass
            if t >= next_memory:
                next_memory = t + MEMORY_EVERY_US
                if statm_fd is not None:
                    try:
                        self.memory.append((t, int(os.pread(statm_fd, 128, 0).split()[1]) * page))
                    except (OSError, ValueError, IndexError):
                        pass
                self.sample_executor(t)
        heap.close()

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

    # --- asyncio ---

    def task_created(self, task):
        self.task_count += 1
        n = self.task_count
        if n > TASKS_FULL and n % TASKS_EVERY:
            self.type_of('Task')['created'] += 1
            return
        weight = 1 if n <= TASKS_FULL else TASKS_EVERY
        current = self.current_task()
        trigger = self.tasks[id(current)][0] if current is not None and id(current) in self.tasks else 0
        site = self.caller_site(sys._getframe(3))
        rid = self.begin('Task', trigger, site, weight, _now_us())
        self.tasks[id(task)] = [rid, weight, [], site]

    def stepped(self, task, state, start, end):
        rid, weight, awaits = state[:3]
        # The step is the callback of what it resumed: the innermost await of the program's code
        # the task was suspended in (the task itself for its first step).
        if awaits:
            self.event(('X', awaits[-1][3], 'await', start, end - start))
        else:
            self.event(('X', rid, 'Task', start, end - start))
        if task.done():
            self.event(('n', rid, end))
            self.close_awaits(awaits, 0, start)
            del self.tasks[id(task)]
            return
        # The task's await chain, outermost first: (frame, instruction, awaited object) per frame of
        # the program's own code. An await stays the same while its frame waits at the same place
        # for the same object, however many steps the frames inside it take meanwhile.
        chain = []
        c = task.get_coro()
        while c is not None:
            frame = getattr(c, 'cr_frame', None) or getattr(c, 'gi_frame', None) or getattr(c, 'ag_frame', None)
            if frame is None:
                break
            awaited = getattr(c, 'cr_await', None)
            if awaited is None:
                awaited = getattr(c, 'gi_yieldfrom', None) or getattr(c, 'ag_await', None)
            if self.is_user_file(frame.f_code.co_filename):
                chain.append((frame, frame.f_lasti, awaited))
            c = awaited
        # The awaited object is held (it is alive while the await lasts anyway): by id alone, a
        # loop's next coroutine, allocated where the previous one was freed, would pass for the
        # same await. The frame's id suffices: the object awaited one level out holds it.
        same = 0
        while same < len(awaits) and same < len(chain):
            a = awaits[same]
            frame, lasti, awaited = chain[same]
            if a[0] != id(frame) or a[1] != lasti or a[2] is not awaited:
                break
            same += 1
        self.close_awaits(awaits, same, start)
        for frame, lasti, awaited in chain[same:]:
            # Trigger 0: an await is not derived from another resource the way a task's first
            # step is from its creator (the task is in args.task).
            aid = self.begin('await', 0, self.site(frame), weight, end, task=rid)
            awaits.append((id(frame), lasti, awaited, aid))

    def close_awaits(self, awaits, keep, start):
        # Resumed during the step that began at `start`, innermost first: an outer await resumes
        # once the one inside it returns (1 µs later per level, an order the sampler cannot see).
        n = len(awaits)
        for k in range(keep, n):
            self.event(('n', awaits[k][3], start + (n - 1 - k)))
        del awaits[keep:]

    def job_submitted(self, future):
        rid = self.begin('executor', 0, self.caller_site(sys._getframe(2)), 1, _now_us(), True)
        self.jobs_in_flight += 1

        def done(_future, rid=rid):
            self.jobs_in_flight -= 1
            self.event(('X', rid, 'executor', _now_us(), 1.0))

        future.add_done_callback(done)

    def install_asyncio(self):
        """Patches asyncio as soon as it is imported (not before: most programs never import it)."""
        if 'asyncio.base_events' in sys.modules:
            self.patch_asyncio()
            return
        recorder = self

        class Finder:
            @staticmethod
            def find_spec(name, path=None, target=None):
                if name != 'asyncio.base_events':
                    return None
                import importlib.machinery

                spec = importlib.machinery.PathFinder.find_spec(name, path)
                if spec is None or spec.loader is None:
                    return None
                exec_module = spec.loader.exec_module

                def exec_and_patch(module):
                    exec_module(module)
                    try:
                        sys.meta_path.remove(Finder)
                    except ValueError:
                        pass
                    recorder.patch_asyncio(module)

                spec.loader.exec_module = exec_and_patch
                return spec

        sys.meta_path.insert(0, Finder)

    def patch_asyncio(self, base_events=None):
        import asyncio.events as events

        if base_events is None:
            import asyncio.base_events as base_events
        import _asyncio  # noqa: F401  (the C tasks; asyncio.tasks picks them up itself)

        recorder = self
        main = self.main_ident
        get_ident = threading.get_ident
        tasks_module = sys.modules.get('asyncio.tasks')
        Loop = base_events.BaseEventLoop
        original_init = Loop.__init__
        original_run_forever = Loop.run_forever
        original_run_in_executor = Loop.run_in_executor
        original_handle_run = events.Handle._run
        task_class = None
        tracked = self.tasks

        def current_task():
            loop = recorder.loop
            if loop is None or tasks_module is None:
                return None
            try:
                return tasks_module.current_task(loop)
            except RuntimeError:
                return None

        self.current_task = current_task

        def task_factory(loop, coro, **kwargs):
            nonlocal task_class, tasks_module
            if task_class is None:
                import asyncio.tasks

                tasks_module = asyncio.tasks
                task_class = asyncio.tasks.Task
            task = task_class(coro, loop=loop, **kwargs)
            if get_ident() == main and not recorder.finished:
                recorder.task_created(task)
            return task

        def __init__(loop, *args, **kwargs):
            original_init(loop, *args, **kwargs)
            loop.set_task_factory(task_factory)

        original_set_task_factory = Loop.set_task_factory

        def set_task_factory(loop, factory):
            # The program's own factory makes the tasks; the recorder still sees each one made.
            if factory is None or factory is task_factory or getattr(factory, 'loopscope_chained', False):
                return original_set_task_factory(loop, task_factory if factory is None else factory)

            def chained(loop_, coro, **kwargs):
                task = factory(loop_, coro, **kwargs)
                if get_ident() == main and not recorder.finished:
                    recorder.task_created(task)
                return task

            chained.loopscope_chained = True
            return original_set_task_factory(loop, chained)

        def run_forever(loop):
            if get_ident() != main or recorder.finished:
                return original_run_forever(loop)
            recorder.loop = loop
            beat = [None]
            due = [loop.time() + HEARTBEAT_S]

            def heartbeat():
                now = loop.time()
                recorder.drift.append((_now_us(), max(0.0, (now - due[0]) * 1000.0)))
                due[0] = now + HEARTBEAT_S
                beat[0] = loop.call_at(due[0], heartbeat)

            beat[0] = loop.call_at(due[0], heartbeat)
            try:
                return original_run_forever(loop)
            finally:
                beat[0].cancel()

        def run_in_executor(loop, executor, func, *args):
            future = original_run_in_executor(loop, executor, func, *args)
            if get_ident() == main and not recorder.finished:
                recorder.job_submitted(future)
            return future

        def _run(handle):
            owner = getattr(handle._callback, '__self__', None)
            state = tracked.get(id(owner)) if owner is not None else None
            if state is None:
                recorder.callbacks += 1
                return original_handle_run(handle)
            recorder.callbacks += 1
            start = _now_us()
            try:
                return original_handle_run(handle)
            finally:
                if not recorder.finished:
                    recorder.stepped(owner, state, start, _now_us())

        Loop.__init__ = __init__
        Loop.set_task_factory = set_task_factory
        Loop.run_forever = run_forever
        Loop.run_in_executor = run_in_executor
        events.Handle._run = _run

    def current_task(self):
        return None

    # --- start and finish ---

    def start(self):
        self.start_time = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime()) + '.%03dZ' % (int(time.time() * 1000) % 1000)
        self.start_us = _now_us()
        parent = os.environ.get(PARENT_ENV, '')
        self.record = {
            'pid': self.pid,
            'ppid': os.getppid(),
            'recordedParent': int(parent) if parent.isdigit() and int(parent) != self.pid else None,
            'argv': [sys.executable] + list(sys.argv),
            'execArgv': self.exec_argv(),
            'cwd': os.getcwd(),
            'startTime': self.start_time,
            'startUs': self.start_us,
            'runtime': 'python %d.%d.%d' % sys.version_info[:3],
        }
        self.write_json('%d.process.json' % self.pid, self.record)
        os.environ[PARENT_ENV] = str(self.pid)
        try:
            tid = threading.get_native_id()
            path = '/proc/self/task/%d/schedstat' % tid
            if os.path.exists(path):
                self.schedstat_path = path
        except AttributeError:
            pass
        self.install_asyncio()
        gc.callbacks.append(self.on_gc)
        atexit.register(self.finish)
        previous_hook = sys.excepthook

        def excepthook(kind, value, tb):
            self.exit_code, self.signal = (None, 'SIGINT') if issubclass(kind, KeyboardInterrupt) else (1, None)
            previous_hook(kind, value, tb)

        sys.excepthook = excepthook
        for name in ('SIGTERM', 'SIGHUP'):
            number = getattr(signal, name, None)
            if number is not None and signal.getsignal(number) == signal.SIG_DFL:
                signal.signal(number, self.on_signal)
        if hasattr(os, 'register_at_fork'):
            os.register_at_fork(after_in_child=self.forked)
        self.sampler = threading.Thread(target=self.run_sampler, name='loopscope-sampler', daemon=True)
        self.sampler.start()

    exit_code = None
    signal = None
    heap_file = None
    gc_start = 0.0

    def exec_argv(self):
        orig = getattr(sys, 'orig_argv', None)
        if not orig:
            return []
        return list(orig[1:len(orig) - len(sys.argv)]) if len(orig) > len(sys.argv) else []

    def on_gc(self, phase, info):
        if phase == 'start':
            self.gc_start = _now_us()
        elif self.gc_start:
            self.gc_pauses.append((self.gc_start, _now_us() - self.gc_start, info.get('generation', -1)))

    def on_signal(self, number, _frame):
        name = signal.Signals(number).name
        self.finish(signal_name=name)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)

    def forked(self):
        # A forked child is another process: it records nothing (its parent's state is not its own).
        self.finished = True
        self.heap.forked()

    def finish(self, signal_name=None):
        if self.finished:
            return
        self.finished = True
        self.stopping = True
        try:
            if self.sampler.is_alive() and self.sampler is not threading.current_thread():
                self.sampler.join(1.0)
            end_us = _now_us()
            try:
                gc.callbacks.remove(self.on_gc)
            except ValueError:
                pass
            names = {'cpuprofile': '%d.cpuprofile' % self.pid, 'trace': '%d.trace.json' % self.pid}
            self.write_heap_profile(names)
            self.write_json(names['cpuprofile'], self.cpu_profile(end_us))
            self.write_trace(names['trace'], end_us)
            record = dict(self.record)
            record.update(
                endTime=time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime()) + '.%03dZ' % (int(time.time() * 1000) % 1000),
                endUs=end_us,
                files=names,
            )
            if signal_name or self.signal:
                record.update(exitCode=None, signal=signal_name or self.signal)
            elif self.exit_code is not None:
                record.update(exitCode=self.exit_code, signal=None)
            self.write_json('%d.process.json' % self.pid, record)
        except Exception as error:
            sys.stderr.write('loopscope: could not write the recording of process %d: %s\n' % (self.pid, error))

    # --- writing ---

    def write_heap_profile(self, names):
        """Written apart: a failure here costs the heap profile only, not the recording."""
        heap = self.heap
        try:
            if not self.sampler.is_alive():
                heap.close()
            else:  # still reading a window's traces: that window is left out
                heap.enabled = False
            if heap.enabled or heap.windows != [0, 0]:
                self.write_json('%d.heapprofile' % self.pid, heap.profile())
                names['heapprofile'] = self.heap_file = '%d.heapprofile' % self.pid
        except Exception as error:
            sys.stderr.write('loopscope: could not write the heap profile of process %d: %s\n' % (self.pid, error))

    def write_json(self, name, value):
        path = os.path.join(self.out, name)
        with open(path + '.tmp', 'w') as f:
            json.dump(value, f, separators=(',', ':'))
        os.replace(path + '.tmp', path)

    def cpu_profile(self, end_us):
        samples = self.samples
        times = self.times
        hits = [0] * len(self.nodes)
        for node in samples:
            hits[node] += 1
        children = [[] for _ in self.nodes]
        for i in range(2, len(self.nodes)):
            children[self.nodes[i][0]].append(i)
        script_ids = {}
        nodes = []
        for i in range(1, len(self.nodes)):
            _, name, url, line = self.nodes[i]
            script = script_ids.setdefault(url, str(len(script_ids) + 1)) if url else '0'
            node = {
                'id': i,
                'callFrame': {'functionName': name, 'scriptId': script, 'url': url, 'lineNumber': line - 1 if line > 0 else -1, 'columnNumber': -1},
                'hitCount': hits[i],
            }
            if children[i]:
                node['children'] = children[i]
            nodes.append(node)
        start = int(times[0]) if times else int(self.start_us)
        deltas = []
        previous = start
        for t in times:
            deltas.append(int(t) - previous)
            previous = int(t)
        return {'nodes': nodes, 'startTime': start, 'endTime': int(end_us), 'samples': samples.tolist(), 'timeDeltas': deltas}

    def write_trace(self, name, end_us):
        pid = self.pid
        head = '"pid":%d,"tid":%d' % (pid, pid)
        lines = ['{"traceEvents":[']
        emit = lines.append
        process_name = ' '.join([os.path.basename(sys.executable)] + sys.argv)
        emit('{"ph":"M","name":"process_name",%s,"args":{"name":%s}}' % (head, json.dumps(process_name)))
        emit('{"ph":"M","name":"thread_name",%s,"args":{"name":"main"}}' % head)
        site_args = []
        for file, line, function in self.sites:
            args = ',"site":%s,"function":%s' % (json.dumps('%s:%d:0' % (file, line)), json.dumps(function))
            site_args.append(args)
        for e in self.events:
            kind = e[0]
            if kind == 'b':
                _, rid, type_name, ts, trigger, site, weight, pool, task = e
                extra = site_args[site] if site >= 0 else ''
                if task:
                    extra += ',"task":%d' % task
                if pool:
                    extra += ',"threadpool":true'
                if weight > 1:
                    extra += ',"weight":%d' % weight
                emit('{"ph":"b","cat":"async","name":"%s","id":%d,%s,"ts":%.1f,"args":{"asyncId":%d,"triggerAsyncId":%d%s}}'
                     % (type_name, rid, head, ts, rid, trigger, extra))
            elif kind == 'n':
                emit('{"ph":"n","cat":"async","name":"promiseResolve","id":%d,%s,"ts":%.1f}' % (e[1], head, e[2]))
            else:
                _, rid, type_name, start, duration = e
                emit('{"ph":"X","cat":"async.callback","name":"%s",%s,"ts":%.1f,"dur":%.1f,"args":{"asyncId":%d}}'
                     % (type_name, head, start, duration, rid))
        for start, duration, generation in self.gc_pauses:
            emit('{"ph":"X","cat":"gc","name":"GC",%s,"ts":%.1f,"dur":%.1f,"args":{"generation":%d}}' % (head, start, duration, generation))
        for t, late in self.drift:
            emit('{"ph":"C","cat":"loop","name":"timerDrift",%s,"ts":%.1f,"args":{"lateMs":%.3f}}' % (head, t, late))
        for t, rss in self.memory:
            emit('{"ph":"C","cat":"memory","name":"memory",%s,"ts":%.1f,"args":{"heapUsed":%d,"heapTotal":%d,"external":0,"arrayBuffers":0,"rss":%d}}'
                 % (head, t, rss, rss, rss))
        for t, queued, busy, workers in self.executor:
            emit('{"ph":"C","cat":"executor","name":"defaultExecutor",%s,"ts":%.1f,"args":{"queued":%d,"busy":%d,"workers":%d}}'
                 % (head, t, queued, busy, workers))
        sched = self.schedstat
        triples = [(sched[i], sched[i + 1], sched[i + 2]) for i in range(0, len(sched) - 2, 3)]
        for t, on_cpu, run_queue in _straight_lines_dropped(triples):
            emit('{"ph":"C","cat":"cpu","name":"schedstat",%s,"ts":%.1f,"args":{"onCpuNs":%d,"runQueueNs":%d}}' % (head, t, on_cpu, run_queue))
        body = lines[0] + '\n' + ',\n'.join(lines[1:])
        metadata = json.dumps(self.metadata(end_us), separators=(',', ':'))
        path = os.path.join(self.out, name)
        with open(path + '.tmp', 'w') as f:
            f.write(body)
            f.write('\n],\n"displayTimeUnit":"ms",\n"metadata":%s}\n' % metadata)
        os.replace(path + '.tmp', path)

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
                           'a frame inside a call that released the GIL gets a native leaf named after the callee',
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


class _HeapSampler:
    """
    tracemalloc in short windows, driven by the sampler thread's ticks (see HEAP_* above). Not
    used when the program traces allocations itself (tracemalloc already on, -X tracemalloc).
    """

    def __init__(self, is_user_file):
        try:
            import tracemalloc
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
        is the main thread's frame. Growth while it imports modules is their code, not the program's
        data: it opens no window.
        """
        if not self.enabled:
            return
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
        started = _now_us()
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
        pause = _now_us() - started
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
        names = _FunctionNames({key[1] for key in self.nodes}, self.is_user_file)
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
        if os.path.dirname(filename) == HERE:
            return None
        if user(filename):
            break
    key = None
    for filename, line in reversed(frames):
        if os.path.dirname(filename) != HERE:
            key = (key, filename, line)
            if key not in nodes:
                nodes[key] = [0.0, 0, 0]
    return key


class _FunctionNames:
    """
    The function a line of a file is in (the innermost). The program's files are compiled again
    (few, and every line is found); libraries are read from the code objects of the loaded modules'
    functions and classes, which is much cheaper than compiling the standard library's files.
    """

    def __init__(self, filenames, is_user_file):
        self.lines = {f: {} for f in filenames}  # file -> line -> (span, name)
        libraries = set()
        for filename in filenames:
            if is_user_file(filename):
                self.add_compiled(filename)
            else:
                libraries.add(filename)
        if libraries:
            self.add_loaded(libraries)

    def at(self, filename, line):
        found = self.lines.get(filename, {}).get(line)
        return found[1] if found else ''

    def add_code(self, code, outer=None):
        import dis

        todo = [(code, outer)]
        while todo:
            code, outer = todo.pop()
            lines = self.lines.get(code.co_filename)
            name = getattr(code, 'co_qualname', None) or (code.co_name if outer in (None, '<module>') else outer + '.' + code.co_name)
            if lines is not None:
                starts = [line for _, line in dis.findlinestarts(code) if line is not None] or [code.co_firstlineno]
                span = max(starts) - min(min(starts), code.co_firstlineno)
                for line in starts + [code.co_firstlineno]:
                    known = lines.get(line)
                    if known is None or span < known[0]:  # the innermost code object a line is in
                        lines[line] = (span, name)
            todo.extend((c, name) for c in code.co_consts if hasattr(c, 'co_code'))

    def add_compiled(self, filename):
        try:
            code = compile(''.join(linecache.getlines(filename)), filename, 'exec', dont_inherit=True)
        except Exception:
            return
        self.add_code(code)

    def add_loaded(self, filenames):
        seen = set()
        for module in list(sys.modules.values()):
            values = list(getattr(module, '__dict__', {}).values())
            while values:
                value = values.pop()
                if id(value) in seen:
                    continue
                seen.add(id(value))
                value = getattr(value, '__func__', value)  # staticmethod, classmethod, bound method
                code = getattr(value, '__code__', None)
                if code is not None and hasattr(code, 'co_code'):
                    if code.co_filename in filenames:
                        self.add_code(code)
                elif isinstance(value, type) and getattr(value, '__module__', None) == getattr(module, '__name__', None):
                    values.extend(vars(value).values())
                elif isinstance(value, property):
                    values.extend(f for f in (value.fget, value.fset, value.fdel) if f is not None)


def _straight_lines_dropped(samples):
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


_recorder = None


def start(out, interval_us):
    global _recorder
    if _recorder is not None:
        return
    _recorder = _Recorder(out, interval_us)
    _recorder.start()
