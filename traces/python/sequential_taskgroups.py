# Sequential batches with TaskGroup: twenty-four requests, four at a time, one asyncio.TaskGroup per
# batch. Each group waits for its slowest request before the next group starts (Python 3.11+).
import asyncio

from _http import get, start_server


async def main():
    port = start_server(delay=0.05)
    paths = ['/item/%d' % i for i in range(24)]
    for i in range(0, len(paths), 4):
        async with asyncio.TaskGroup() as tg:  # @mark: one group at a time
            for path in paths[i:i + 4]:
                tg.create_task(get(port, path))
    print(len(paths), 'responses')


asyncio.run(main())
