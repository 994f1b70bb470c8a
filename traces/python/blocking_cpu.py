# Blocking: a pure-Python computation in a coroutine never yields, so the loop serves nothing
# else meanwhile.
import asyncio


def checksum(n):
    total = 0
    for i in range(n):
        total = (total * 31 + i) % 1_000_003  # @mark: the hot line
    return total


async def report(i):
    await asyncio.sleep(0.01)
    return checksum(2_000_000)


async def main():
    results = await asyncio.gather(*(report(i) for i in range(4)))
    print(results)


asyncio.run(main())
