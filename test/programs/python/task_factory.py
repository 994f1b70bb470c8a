# Sets its own task factory: its tasks are still traced, and the factory still runs.
import asyncio

made = []


def factory(loop, coro, **kwargs):
    made.append(1)
    return asyncio.Task(coro, loop=loop, **kwargs)


async def child():
    await asyncio.sleep(0.05)  # @mark


async def main():
    asyncio.get_running_loop().set_task_factory(factory)
    await asyncio.gather(child(), child())
    print('factory made', len(made))


asyncio.run(main())
