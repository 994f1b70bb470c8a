# The CPU profile: a thread samples the main thread's stack every interval (sys._current_frames)
# and adds it to a tree of per-line nodes, V8's cpuprofile shape. It also drives the series and the
# heap windows, which read at the same ticks. A sample in the event loop's selector is "(idle)"; one
# taken while the main thread is inside a call that released the GIL gets a native leaf frame
# named after the callee, so it reads as system time of the calling line.

import itertools
import os
import sys
import time

from .common import is_own_file, now_ns
from .series import MEMORY_EVERY_US

# A sampler that waited this much past its interval waited for the GIL: the main thread held it,
# running Python (or C code that keeps the GIL), not sitting in a call that released it.
GIL_WAIT_US = 1500

# Trace events formatted at an idle sample, ahead of the exit (about 1 µs each, with the GIL held:
# the loop, if it wakes meanwhile, waits that long).
FORMAT_BATCH = 50

# Stacks remembered, as (code, instruction) pairs, with their profile node (a cache: emptied when full).
MAX_STACKS = 20000

# The opcodes of a call, across the Python versions (3.8 to 3.13 name them differently).
CALL_OPS = frozenset(('CALL', 'PRECALL', 'CALL_FUNCTION', 'CALL_METHOD', 'CALL_FUNCTION_KW', 'CALL_FUNCTION_EX', 'CALL_KW'))


class Sampler:
    """The stack sampler and the CPU profile it builds (a part of Recorder)."""

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
        key = (id(code), lasti)  # the code is held in code_infos
        name = self.callees.get(key, False)
        if name is not False:
            return name
        import dis

        name = None
        raw = code.co_code
        if 0 <= lasti < len(raw) and dis.opname[raw[lasti]] in CALL_OPS:
            name = '(native call)'
            positions = getattr(code, 'co_positions', None)
            if positions is not None:
                # One position per 2-byte code unit: the call's own, without disassembling the code.
                pos = next(itertools.islice(positions(), lasti // 2, None), None)
                if pos is not None and pos[0] and pos[2] is not None:
                    import linecache

                    text = linecache.getline(code.co_filename, pos[0])
                    head = text[pos[2]:].split('(', 1)[0].strip()
                    if head and all(part.isidentifier() for part in head.split('.')):
                        name = head
            else:
                # Before 3.11: the name the call's callee was loaded by, the last one before it.
                for i in reversed([i for i in dis.get_instructions(code) if i.offset < lasti]):
                    if i.opname in ('LOAD_METHOD', 'LOAD_ATTR', 'LOAD_GLOBAL', 'LOAD_NAME'):
                        name = str(i.argval)
                        break
        self.callees[key] = name
        return name

    def code_info(self, code):
        """
        Per code object, found once: (is the recorder's own, is the selector's select, name, the code).
        Keyed by id (a code object hashes its whole contents each time); holding the code keeps
        the id from passing to another one.
        """
        info = self.code_infos[id(code)] = (
            is_own_file(code.co_filename),
            code.co_name == 'select' and code.co_filename.endswith('selectors.py'),
            getattr(code, 'co_qualname', code.co_name),
            code,
        )
        return info

    def sample(self, leaf, t, gil_was_free):
        """
        Adds a sample of the main thread's stack (`leaf` its innermost frame). Returns the stack as
        add_sample takes it: (node, leaf code, leaf instruction), the code None when the loop was idle.
        """
        infos = self.code_infos
        code = leaf.f_code
        info = infos.get(id(code)) or self.code_info(code)
        if info[1]:  # idle in the event loop's selector: no need to walk the stack
            self.samples.append(self.idle_node)
            self.times.append(t)
            return self.idle_stack
        # The stack as (code, instruction) pairs: a stack seen before is one lookup, without the
        # line of each frame (f_lineno scans its code's line table). Its codes are held in
        # code_infos, so their ids stay theirs.
        ids = []
        f = leaf
        while f is not None:
            ids.append(id(f.f_code))
            ids.append(f.f_lasti)
            f = f.f_back
        key = tuple(ids)
        stacks = self.stack_nodes
        node = stacks.get(key)
        if node is None:
            if len(stacks) >= MAX_STACKS:
                stacks.clear()
            node = stacks[key] = self.stack_node(leaf)
        stack = (node, code, leaf.f_lasti)
        self.add_sample(stack, t, gil_was_free)
        return stack

    def add_sample(self, stack, t, gil_was_free):
        node, code, lasti = stack
        if gil_was_free and code is not None:
            name = self.callee(code, lasti)
            if name:
                node = self._child(node, name)
        self.samples.append(node)
        self.times.append(t)

    def stack_node(self, leaf):
        """The profile node of the stack that ends at `leaf`, its nodes added."""
        infos = self.code_infos
        frames = []
        f = leaf
        own = True  # the recorder's frames count only at the top of the stack (its own work)
        while f is not None:
            c = f.f_code
            if not (infos.get(id(c)) or self.code_info(c))[0]:
                own = False
                frames.append(f)
            elif own:
                frames.append(f)
            f = f.f_back
        node = 1
        index = self.node_index
        for f in reversed(frames):
            c = f.f_code
            line = f.f_lineno or c.co_firstlineno
            key = (node, id(c), line)
            child = index.get(key)
            if child is None:
                child = self._child(node, infos[id(c)][2], c.co_filename, line, key)
            node = child
        return node

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

        # The main thread's CPU time, its current run included: unchanged since the last sample,
        # the thread has not run, so its stack is the last one (no frames read, no stack walked).
        try:
            main_clock = time.pthread_getcpuclockid(main)
            cpu_time = time.clock_gettime_ns
            cpu_time(main_clock)
        except (AttributeError, OSError):
            main_clock = None
        last_cpu = -1
        stack = None
        heap = self.heap
        while not self.stopping:
            before = now_ns()
            time.sleep(interval)
            t = now_ns() / 1000.0
            if self.stopping:
                break
            gil_was_free = t - before / 1000.0 - self.interval_us < GIL_WAIT_US
            cpu = -2
            if main_clock is not None:
                try:
                    cpu = cpu_time(main_clock)
                except OSError:
                    pass
            if cpu >= 0 and cpu == last_cpu and stack is not None:
                heap.tick(t, rss, None)
                self.add_sample(stack, t, gil_was_free)
            else:
                leaf = frames_of().get(main)
                heap.tick(t, rss, leaf)
                if leaf is None:
                    continue
                stack = self.sample(leaf, t, gil_was_free)
                del leaf
                last_cpu = cpu
            if stack[1] is None and self.formatted < len(self.events):  # the loop is idle
                self.format_events(FORMAT_BATCH)
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
