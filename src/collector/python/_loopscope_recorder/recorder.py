# The recorder of one process: its state, and how it starts (hooks, signals, atexit, the sampler
# thread) and finishes (writes everything once, at exit or on SIGTERM / SIGHUP). Each concern's
# methods are in the module of that concern; Recorder puts them together.

import atexit
import gc
from array import array
import os
import signal
import sys
import threading
import time

from .asyncio_hooks import AsyncioHooks
from .common import is_own_file, library_roots, now_us
from .heap import HeapSampler
from .metadata import Metadata
from .sampler import Sampler
from .series import Series
from .tasks import Tasks
from .writer import Writer

PARENT_ENV = 'LOOPSCOPE_RECORDED_PARENT'


class Recorder(Sampler, Series, Tasks, AsyncioHooks, Writer, Metadata):
    def __init__(self, out, interval_us):
        self.out = out
        self.interval_us = max(50, interval_us)
        self.pid = os.getpid()
        self.main_ident = threading.main_thread().ident
        self.finished = False
        self.stopping = False
        self.library_roots = library_roots()
        self.user_files = {}
        # CPU profile: node 1 is (root); children keyed by (parent, id(code), line) or (parent, name).
        self.nodes = [None, (0, '(root)', '', -1)]
        self.node_index = {}
        self.stack_nodes = {}  # stack as (id(code), instruction) pairs -> node: see Sampler.sample
        self.idle_node = self._child(1, '(idle)')
        self.idle_stack = (self.idle_node, None, 0)  # see Sampler.sample
        # Typed arrays: about 12 bytes a sample, so hours of recording stay in tens of megabytes.
        self.samples = array('i')
        self.times = array('d')
        self.callees = {}
        self.code_infos = {}  # code object -> (own, select, name): see Sampler.code_info
        # Trace.
        self.events = []  # tuples, formatted into the trace's JSON in place (Writer.format_events)
        self.formatted = 0  # events[:formatted] are formatted
        self.templates = None
        self.site_args = []
        self.dropped = 0
        self.next_id = 1
        self.types = {}
        self.sites = []
        self.site_index = {}
        self.site_at = {}  # (id(code), instruction) -> site: an await's line, found once
        self.site_codes = []
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
        self.heap = HeapSampler(self.is_user_file)

    # --- what is the program's code ---

    def is_user_file(self, filename):
        user = self.user_files.get(filename)
        if user is None:
            path = os.path.abspath(filename) if filename and not filename.startswith('<') else ''
            user = bool(path) and not path.startswith(self.library_roots) and not is_own_file(path)
            user = user and '/site-packages/' not in path and '/dist-packages/' not in path
            self.user_files[filename] = user
        return user

    # --- start and finish ---

    def start(self):
        self.start_time = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime()) + '.%03dZ' % (int(time.time() * 1000) % 1000)
        self.start_us = now_us()
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
            end_us = now_us()
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
