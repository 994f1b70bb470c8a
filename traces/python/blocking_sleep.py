# Blocking: a handler "waits" with time.sleep instead of await asyncio.sleep, so the whole loop
# stops for 200 ms each time, and the heartbeat task's timers run late.
import asyncio
import time


async def heartbeat(stop):
    while not stop.is_set():
        await asyncio.sleep(0.01)


async def handle(n):
    await asyncio.sleep(0.02)
    time.sleep(0.2)  # @mark: a synchronous sleep inside a coroutine
    return n


async def main():
    stop = asyncio.Event()
    beat = asyncio.create_task(heartbeat(stop))
    for n in range(4):
        await handle(n)
    stop.set()
    await beat


asyncio.run(main())
