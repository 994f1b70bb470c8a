# Sequential batches: twenty-four independent requests sent four at a time. Each batch is gathered
# with asyncio.gather, and the batches are awaited one after another: the loop sits idle for the
# sum of the batches' waits, where a pool keeping four in flight would not wait for each batch's
# slowest request.
import asyncio

from _http import get, start_server


async def main():
    port = start_server(delay=0.05)
    paths = ['/item/%d' % i for i in range(24)]
    bodies = []
    for i in range(0, len(paths), 4):
        bodies += await asyncio.gather(*(get(port, p) for p in paths[i:i + 4]))  # @mark: one batch at a time
    print(len(bodies), 'responses')


asyncio.run(main())
