# Exercises the recorder's series: GC pauses, memory, the default executor's queue.
import asyncio
import gc
import time


def job(seconds):
    time.sleep(seconds)


async def main():
    loop = asyncio.get_running_loop()
    # 12 jobs of 0.2 s on the default executor (min(32, CPUs + 4) workers): some must queue.
    jobs = [loop.run_in_executor(None, job, 0.2) for _ in range(12)]
    for _ in range(3):
        cycles = [[] for _ in range(50_000)]
        for c in cycles:
            c.append(c)  # reference cycles: only the cyclic collector frees them
        del cycles
        gc.collect()
        await asyncio.sleep(0.05)
    await asyncio.gather(*jobs)


asyncio.run(main())
