# asyncio seen as async resources, in the trace's terms: each task ("Task": created by the task
# factory, resolved when done, one callback per step), each await a task suspends in ("await": one
# per frame of the program's own code in its await chain, from the step that suspended it to the
# step that resumed it), and each run_in_executor job ("executor"). The hooks that call these are
# in asyncio_hooks.py.

import os
import sys
from types import AsyncGeneratorType, CoroutineType, GeneratorType

from .common import is_own_file, now_us

# Tasks: the first TASKS_FULL are traced with all their awaits, then 1 in TASKS_EVERY (weighted).
TASKS_FULL = 1000
TASKS_EVERY = 128

MAX_EVENTS = 2000000
EVENTS_SLACK = 4096  # below the cap, a step's events are appended without counting


class Tasks:
    """Resources and their events for the trace (a part of Recorder)."""

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

    def site_at_frame(self, frame):
        """site(frame), found once per instruction: its line, file and function follow from those."""
        code = frame.f_code
        key = (id(code), frame.f_lasti)
        site = self.site_at.get(key)
        if site is None:
            site = self.site_at[key] = self.site(frame)
            self.site_codes.append(code)  # keeps its id its own
        return site

    def caller_site(self, frame):
        """
        The innermost frame of the program's own code from `frame` outwards, as a site. Inside a
        task step the stack ends at the loop (the recorder's step hook): a task that runs asyncio's
        code only (asyncio.to_thread, a gather's child) was started by the site that created it.
        """
        while frame is not None:
            filename = frame.f_code.co_filename
            if self.is_user_file(filename):
                return self.site_at_frame(frame)
            if is_own_file(filename):
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
        rid = self.begin('Task', trigger, site, weight, now_us())
        self.tasks[id(task)] = [rid, weight, [], site]

    def stepped(self, task, state, start, end):
        rid, weight, awaits = state[0], state[1], state[2]
        events = self.events
        # One check of the event cap a step (a step adds at most its await chain's length + 1 more).
        append = events.append if len(events) < MAX_EVENTS - EVENTS_SLACK else self.event
        # The step is the callback of what it resumed: the innermost await of the program's code
        # the task was suspended in (the task itself for its first step).
        if awaits:
            append(('X', 'await', start, end - start, awaits[-1][3]))
        else:
            append(('X', 'Task', start, end - start, rid))
        if task.done():
            append(('n', rid, end))
            if awaits:
                self.close_awaits(awaits, 0, start)
            del self.tasks[id(task)]
            return
        # The task's await chain, outermost first: (frame, instruction, awaited object) per frame of
        # the program's own code. An await stays the same while its frame waits at the same place
        # for the same object, however many steps the frames inside it take meanwhile. Library
        # coroutines are told by their code: reading cr_frame would make a frame object for each.
        chain = []
        c = task.get_coro()
        user = self.user_files
        while c is not None:
            kind = type(c)
            if kind is CoroutineType:
                mine = user.get(c.cr_code.co_filename)
                if mine is None:
                    mine = self.is_user_file(c.cr_code.co_filename)
                awaited = c.cr_await
                if mine:
                    frame = c.cr_frame
                    if frame is None:
                        break
                    chain.append((frame, frame.f_lasti, awaited))
                c = awaited
                continue
            if kind is GeneratorType:
                code = c.gi_code
                awaited = c.gi_yieldfrom
            elif kind is AsyncGeneratorType:
                code = c.ag_code
                awaited = c.ag_await
            else:  # a Future, or another awaitable: where the chain ends, unless it says otherwise
                frame = getattr(c, 'cr_frame', None) or getattr(c, 'gi_frame', None) or getattr(c, 'ag_frame', None)
                if frame is None:
                    break
                code = frame.f_code
                awaited = getattr(c, 'cr_await', None)
                if awaited is None:
                    awaited = getattr(c, 'gi_yieldfrom', None) or getattr(c, 'ag_await', None)
            filename = code.co_filename
            mine = user.get(filename)
            if mine is None:
                mine = self.is_user_file(filename)
            if mine:
                frame = getattr(c, 'cr_frame', None) or getattr(c, 'gi_frame', None) or getattr(c, 'ag_frame', None)
                if frame is None:
                    break
                chain.append((frame, frame.f_lasti, awaited))
            c = awaited
        # The awaited object is held (it is alive while the await lasts anyway): by id alone, a
        # loop's next coroutine, allocated where the previous one was freed, would pass for the
        # same await. The frame's id suffices: the object awaited one level out holds it.
        same = 0
        n = min(len(awaits), len(chain))
        while same < n:
            a = awaits[same]
            frame, lasti, awaited = chain[same]
            if a[0] != id(frame) or a[1] != lasti or a[2] is not awaited:
                break
            same += 1
        if same < len(awaits):
            self.close_awaits(awaits, same, start)
        if same < len(chain):
            counts = self.type_of('await')
            sites = self.site_at
            new = len(chain) - same
            counts['created'] += weight * new
            counts['traced'] += new
            aid = self.next_id
            self.next_id = aid + new
            for frame, lasti, awaited in chain[same:]:
                site = sites.get((id(frame.f_code), lasti))
                if site is None:
                    site = self.site_at_frame(frame)
                # begin(), inline (several a step). Trigger 0: an await is not derived from another
                # resource the way a task's first step is from its creator (the task is in args.task).
                append(('b', aid, 'await', end, 0, site, weight, False, rid))
                awaits.append((id(frame), lasti, awaited, aid))
                aid += 1

    def close_awaits(self, awaits, keep, start):
        # Resumed during the step that began at `start`, innermost first: an outer await resumes
        # once the one inside it returns (1 µs later per level, an order the sampler cannot see).
        n = len(awaits)
        if len(self.events) < MAX_EVENTS - EVENTS_SLACK:
            self.events.extend([('n', awaits[k][3], start + (n - 1 - k)) for k in range(keep, n)])
        else:
            for k in range(keep, n):
                self.event(('n', awaits[k][3], start + (n - 1 - k)))
        del awaits[keep:]

    def job_submitted(self, future):
        rid = self.begin('executor', 0, self.caller_site(sys._getframe(2)), 1, now_us(), True)
        self.jobs_in_flight += 1

        def done(_future, rid=rid):
            self.jobs_in_flight -= 1
            self.event(('X', 'executor', now_us(), 1.0, rid))

        future.add_done_callback(done)

    def current_task(self):
        return None
