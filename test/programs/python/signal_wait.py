# Prints "ready <pid>" and waits on the loop until a signal ends it.
import asyncio
import os


async def main():
    print('ready', os.getpid(), flush=True)
    await asyncio.sleep(30)


asyncio.run(main())
