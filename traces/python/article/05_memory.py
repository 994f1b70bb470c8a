# The article's "Memory Overhead" example. Changed: each task's string is 10**6 repetitions instead
# of 10**8 (11 MB instead of 1.1 GB per task), so the hundred tasks together hold 1.1 GB instead of
# 110 GB and the program fits in an ordinary machine's memory.
import asyncio

async def large_data_task():
    data = "lorep ipsum" * 10**6  # Large memory usage
    await asyncio.sleep(1)

async def main():
    tasks = [large_data_task() for _ in range(100)]  # High memory consumption
    await asyncio.gather(*tasks)

asyncio.run(main())
