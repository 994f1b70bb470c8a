# The recorder for Python programs, started by sitecustomize.py beside this package in every Python
# process `loopscope collect` runs. Standard library only, Python 3.8+. It writes the same files as
# the Node recorder (src/collector/format.ts), so `loopscope analyze` reads them unchanged:
#
# - <pid>.cpuprofile: V8's format, from a thread sampling the main thread's stack (sampler.py).
# - <pid>.trace.json: the collector's trace. asyncio tasks, awaits and run_in_executor jobs are async
#   resources (tasks.py, hooked in by asyncio_hooks.py); series: heartbeat timer drift, off-CPU time
#   of the main thread, RSS, GC pauses, the default executor's queue (series.py); metadata.py says
#   how each was recorded.
# - <pid>.heapprofile: V8's sampling heap profile shape, from tracemalloc in short windows (heap.py).
# - <pid>.process.json: who the process is and how it ended (recorder.py).
#
# Everything is written when the process ends (writer.py): at exit (atexit, so also after sys.exit
# and an uncaught exception), or on SIGTERM / SIGHUP when the program does not handle them itself
# (written, then the signal is raised again with its default action). The recorder's own frames
# (every file of this package, and sitecustomize.py: common.is_own_file) are kept out of the
# program's stacks: wrappers it installs are skipped below the program's code.

from .recorder import Recorder

_recorder = None


def start(out, interval_us):
    global _recorder
    if _recorder is not None:
        return
    _recorder = Recorder(out, interval_us)
    _recorder.start()
