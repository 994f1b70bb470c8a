# 40 tasks each hold about 4 MB of small strings across an await; the strings are built in a helper,
# so the source before the await shows no allocation and only the heap profile names the line.
import asyncio


def make_payload(i):
    return [str(i) * 1000 for _ in range(4000)]  # @mark: the allocation


async def worker(i):
    payload = make_payload(i)
    await asyncio.sleep(0.3)  # @await: what the tasks hold their payload across
    return len(payload)


async def main():
    await asyncio.gather(*(worker(i) for i in range(40)))


asyncio.run(main())
