# The article's "Excessive Context Switching" example, unchanged: 100 000 tasks that each sleep
# for 0.1 ms, gathered at once.
import asyncio

async def tiny_task():
    await asyncio.sleep(0.0001)

async def main():
    # Excessive context switching due to many small tasks
    await asyncio.gather(*(tiny_task() for _ in range(100000)))

asyncio.run(main())
