# The backend of io_wait.py: the slow local HTTP server of traces/python/_http.py (5 ms a request
# unless told otherwise) in a process of its own, as a real program's backend is. Prints its port,
# then serves until its standard input closes.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'traces', 'python'))
from _http import start_server  # noqa: E402

print(start_server(delay=float(sys.argv[1]) if len(sys.argv) > 1 else 0.005), flush=True)
sys.stdin.read()
