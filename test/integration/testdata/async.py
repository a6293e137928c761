import asyncio


async def nap(name, delay):
    await asyncio.sleep(delay)
    return name


async def main():
    print(await asyncio.gather(nap("a", 0.05), nap("b", 0.02)))


asyncio.run(main())
