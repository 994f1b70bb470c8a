# The article's "Resource Starvation" example. Changed: the sleeps are scaled down tenfold (10 s and
# 1 s become 1 s and 0.1 s) so it runs in about a second, and the first line of quick_task, indented
# by one space in the article (an IndentationError), is indented like the rest.
import asyncio

async def long_running_task():
    await asyncio.sleep(1)
    print("Long task executed")

async def quick_task():
    await asyncio.sleep(0.1)
    print("Quick task executed")

async def main():
    await asyncio.gather(
        long_running_task(),
        quick_task()  # May be delayed excessively
    )

asyncio.run(main())
