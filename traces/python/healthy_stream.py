# Healthy: lines read from a child process's output as they come (`async for`). Each line waits for
# the one before it by nature: a stream gives its items in order, so there is nothing to start
# together.
import asyncio
import sys

PRODUCER = 'import time\nfor i in range(40):\n    print(i, flush=True)\n    time.sleep(0.01)'


async def main():
    proc = await asyncio.create_subprocess_exec(sys.executable, '-c', PRODUCER, stdout=asyncio.subprocess.PIPE)
    lines = 0
    async for _ in proc.stdout:
        lines += 1
    await proc.wait()
    print(lines, 'lines')


asyncio.run(main())
