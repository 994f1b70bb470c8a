# The article's "Calling asynchronous tasks sequentially" example, ported to run offline.
# Changed: the ten requests go to a local server (../local_server.py, started in a child process;
# each response takes 0.2 s) instead of http://medium.com, and `aiohttp` is replaced by that
# module's small standard-library client with the same `ClientSession` / `session.get` /
# `response.text()` shape, so the program needs no network and no third-party package.
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import local_server as aiohttp  # noqa: E402  (stands in for aiohttp)

async def fetch(session, url):
    async with session.get(url) as response:
        return await response.text()

async def main():
    urls = [aiohttp.start()] * 10
    async with aiohttp.ClientSession() as session:
        # Inefficient: Sequential requests
        for url in urls:
            await fetch(session, url)

asyncio.run(main())
