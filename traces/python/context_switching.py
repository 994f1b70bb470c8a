# Context switching: 100,000 tasks that each do almost nothing but wait 0.1 ms; the loop spends
# its time creating, scheduling and collecting tasks rather than on the work.
import asyncio


async def tiny_task():
    await asyncio.sleep(0.0001)


async def main():
    await asyncio.gather(*(tiny_task() for _ in range(100_000)))  # @mark: one task per item


asyncio.run(main())
