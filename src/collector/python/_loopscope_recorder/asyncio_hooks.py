# Patches asyncio when the program imports it (most programs never do): the task factory sees each
# task made, Handle._run each task step, run_in_executor each job, and run_forever sets the
# heartbeat timer. Only the main thread's loop is recorded.

import sys
import threading

from .common import now_ns, now_us
from .series import HEARTBEAT_S


class AsyncioHooks:
    """Installs the hooks tasks.py records through (a part of Recorder)."""

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
                recorder.drift.append((now_us(), max(0.0, (now - due[0]) * 1000.0)))
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
            recorder.callbacks += 1
            owner = getattr(handle._callback, '__self__', None)
            state = tracked.get(id(owner)) if owner is not None else None
            if state is None:
                return original_handle_run(handle)
            start = now_ns() / 1000.0
            try:
                return original_handle_run(handle)
            finally:
                if not recorder.finished:
                    recorder.stepped(owner, state, start, now_ns() / 1000.0)

        Loop.__init__ = __init__
        Loop.set_task_factory = set_task_factory
        Loop.run_forever = run_forever
        Loop.run_in_executor = run_in_executor
        events.Handle._run = _run
