# A task that hogs the loop: it crunches numbers and yields only every 50-100 ms, so the other
# task's 10 ms timers run that late every time.
import asyncio


async def ticker(stop):
    while not stop.is_set():
        await asyncio.sleep(0.01)


async def crunch():
    total = 0
    for chunk in range(8):
        for i in range(1_500_000):
            total += i * i % 7  # @mark: the loop work between yields
        await asyncio.sleep(0)
    return total


async def main():
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(stop))
    await crunch()
    stop.set()
    await tick


asyncio.run(main())
