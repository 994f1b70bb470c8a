import asyncio


async def main():
    await asyncio.sleep(0.05)
    raise RuntimeError('python-throw: the program failed')


asyncio.run(main())
