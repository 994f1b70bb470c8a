import asyncio
import sys


async def main():
    await asyncio.sleep(0.05)
    print('exiting with 3')
    sys.exit(3)


asyncio.run(main())
