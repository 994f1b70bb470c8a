# Memory: 40 concurrent tasks each build a 12 MB string and hold it across an await, so the
# process peaks near 500 MB where one task at a time would need 12 MB.
import asyncio


async def large_data_task(i):
    data = 'lorem ipsum ' * 10**6
    await asyncio.sleep(0.3)  # @mark: every task holds its data across this await
    return len(data)


async def main():
    sizes = await asyncio.gather(*(large_data_task(i) for i in range(40)))
    print(sum(sizes) >> 20, 'MB')


asyncio.run(main())
