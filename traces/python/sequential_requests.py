# Sequential: ten independent requests awaited one after another. Each takes about 50 ms on the
# server; the loop sits idle meanwhile, and the run takes the sum of them, not the longest.
import asyncio

from _http import get, start_server


async def main():
    port = start_server(delay=0.05)
    bodies = []
    for i in range(10):
        bodies.append(await get(port, '/item/%d' % i))  # @mark: one request at a time
    print(len(bodies), 'responses')


asyncio.run(main())
