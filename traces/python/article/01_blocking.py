# The article's "Blocking operations" example, unchanged: a synchronous sleep inside a coroutine
# holds the event loop for three seconds.
import asyncio
import time

async def main():
    print('Start')
    # Blocking call
    time.sleep(3)  # This blocks the entire event loop
    print('End')

asyncio.run(main())
