# Healthy: a few tasks wait concurrently and do a little work between waits.
import asyncio


async def worker(n):
    total = 0
    for step in range(10):
        await asyncio.sleep(0.02)
        total += sum(range(1000))
    return total


async def main():
    print(sum(await asyncio.gather(*(worker(n) for n in range(8)))))


asyncio.run(main())
