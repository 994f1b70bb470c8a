# The I/O-bound program of `npm run bench:collect-python`: io_bound.py's work (1,000 HTTP requests,
# 20 in flight at a time, each response written to and read back from a temporary file through the
# default executor) against a backend in another process, so that this process mostly waits.
# `python3 io_wait.py PORT` uses a backend already running (the benchmark starts http_backend.py,
# at 50 ms and at 5 ms a request, so that the backend's start and CPU are not the program's);
# without PORT it starts http_backend.py itself (5 ms), isolated (-I: not recorded, it is not this
# program).
import asyncio
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'traces', 'python'))
from _http import get  # noqa: E402


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


async def main(port):
    jobs = list(range(1000))
    done = []
    with tempfile.TemporaryDirectory() as directory:
        await asyncio.gather(*(worker(port, jobs, directory, done) for _ in range(20)))
    print(len(done), 'requests')


if __name__ == '__main__':  # io_bound.py imports main, for the same work
    if len(sys.argv) > 1:
        asyncio.run(main(int(sys.argv[1])))
    else:
        backend = subprocess.Popen([sys.executable, '-I', os.path.join(HERE, 'http_backend.py')], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            asyncio.run(main(int(backend.stdout.readline())))
        finally:
            backend.stdin.close()
            backend.wait()
