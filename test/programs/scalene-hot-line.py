# Recorded live with scalene by test/scalene.test.ts: one line computes (@hot), one sleeps
# synchronously (@sleep), then the coroutine awaits a timer (the loop waits: idle).
import asyncio
import time


async def main():
    total = sum(i * i for i in range(8_000_000))  # @hot
    time.sleep(0.4)  # @sleep
    await asyncio.sleep(0.3)
    return total


asyncio.run(main())
