# Memory: 50 concurrent tasks each build a 4 MB string and hold it across an await, so the
# process peaks above 200 MB where one task at a time would need 4 MB.
import asyncio


async def large_data_task(i):
    data = 'lorem ipsum ' * 350_000  # @mark: held across the await below
    await asyncio.sleep(0.3)
    return len(data)


async def main():
    sizes = await asyncio.gather(*(large_data_task(i) for i in range(50)))
    print(sum(sizes) >> 20, 'MB')


asyncio.run(main())
