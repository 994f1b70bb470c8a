# Starvation: long blocking jobs fill the loop's default executor (min(32, CPUs + 4) threads), so
# quick jobs sent to it meanwhile (asyncio.to_thread of a fast call) queue behind them.
import asyncio
import os
import time


def slow_export(i):
    time.sleep(0.4)
    return i


def quick_lookup(i):
    return i * 2


async def main():
    workers = min(32, (os.cpu_count() or 1) + 4)
    jobs = asyncio.gather(*(asyncio.to_thread(slow_export, i) for i in range(3 * workers)))  # @mark: floods the executor
    await asyncio.sleep(0.05)
    for i in range(10):
        await asyncio.to_thread(quick_lookup, i)
    await jobs


asyncio.run(main())
