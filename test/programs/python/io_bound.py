# A row of `npm run bench:collect-python`: 1,000 HTTP requests to a local server (5 ms each on the
# server), 20 in flight at a time, each response also written to and read back from a temporary
# file through the default executor, with the server on threads of this same process. So this
# process is not I/O-bound: it burns more CPU than wall time, and the recorder's sampler shares the
# GIL with the server's threads. io_wait.py is the I/O-bound one (its backend is another process).
import asyncio
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'traces', 'python'))
from _http import get, start_server  # noqa: E402


def roundtrip(path, body):
    with open(path, 'wb') as f:
        f.write(body)
    with open(path, 'rb') as f:
        return len(f.read())


async def worker(port, jobs, directory, done):
    while jobs:
        i = jobs.pop()
        body = await get(port, '/item/%d' % i)
        done.append(await asyncio.to_thread(roundtrip, os.path.join(directory, '%d' % (i % 20)), body))


async def main():
    port = start_server(delay=0.005)
    jobs = list(range(1000))
    done = []
    with tempfile.TemporaryDirectory() as directory:
        await asyncio.gather(*(worker(port, jobs, directory, done) for _ in range(20)))
    print(len(done), 'requests')


asyncio.run(main())
