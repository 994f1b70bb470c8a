# What every part of the recorder shares: the clock all its timestamps use, and which files are its
# own (this package, and sitecustomize.py beside it), so that its frames never pass for the program's.

import os
import sysconfig
import time

now_ns = time.monotonic_ns  # CLOCK_MONOTONIC: the clock Node's profiles use too

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# The recorder's own directories: this package, and the one of sitecustomize.py that loads it.
OWN_DIRS = (PACKAGE_DIR, os.path.dirname(PACKAGE_DIR))


def now_us():
    return now_ns() / 1000.0


def is_own_file(filename):
    return os.path.dirname(filename) in OWN_DIRS


def library_roots():
    roots = set()
    for key in ('stdlib', 'platstdlib', 'purelib', 'platlib'):
        try:
            path = sysconfig.get_paths().get(key)
        except Exception:
            path = None
        if path:
            roots.add(os.path.join(os.path.abspath(path), ''))
    return tuple(roots)
