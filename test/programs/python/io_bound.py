# A row of `npm run bench:collect-python`: 1,000 HTTP requests to a local server (5 ms each on the
# server), 20 in flight at a time, each response also written to and read back from a temporary
# file through the default executor, with the server on threads of this same process. So this
# process is not I/O-bound: it burns more CPU than wall time, and the recorder's sampler shares the
# GIL with the server's threads. io_wait.py is the I/O-bound one (its backend is another process).
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'traces', 'python'))
from _http import start_server  # noqa: E402
from io_wait import main  # noqa: E402  (this script's directory is on the path)

asyncio.run(main(start_server(delay=0.005)))
