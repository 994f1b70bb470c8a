# Loaded at startup by every Python process that `loopscope collect` starts: collect puts this
# directory first on PYTHONPATH, and Python imports the first `sitecustomize` it finds. Starts the
# recorder (the _loopscope_recorder package beside this file) when LOOPSCOPE_OUT names a recording
# directory, then runs the sitecustomize this one hides (a distribution's or a virtualenv's), so
# the program starts exactly as it would without loopscope.

import os
import sys


def _run_hidden_sitecustomize():
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec('sitecustomize', path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


def _start_recorder():
    out = os.environ.get('LOOPSCOPE_OUT')
    if not out:
        return
    try:
        # The build compiles the recorder ahead (scripts/copy-python-recorder.mjs): compiling it at
        # every start would cost each recorded process ~7 ms where bytecode is not written.
        import _loopscope_recorder

        _loopscope_recorder.start(out, int(os.environ.get('LOOPSCOPE_INTERVAL_US') or 1000))
    except Exception as error:  # the program runs unrecorded rather than not at all
        sys.stderr.write('loopscope: could not record process %d: %s\n' % (os.getpid(), error))


_start_recorder()
try:
    _run_hidden_sitecustomize()
except Exception:
    import traceback

    sys.stderr.write('Error in sitecustomize; set PYTHONVERBOSE for traceback:\n')
    traceback.print_exc()
