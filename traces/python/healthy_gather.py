# Healthy: requests like sequential_requests.py's, started together with asyncio.gather: the run
# takes about one request's time.
import asyncio

from _http import get, start_server


async def main():
    port = start_server(delay=0.05)
    bodies = await asyncio.gather(*(get(port, '/item/%d' % i) for i in range(20)))
    print(len(bodies), 'responses')


asyncio.run(main())
