# Blocking: password hashing (hashlib.pbkdf2_hmac, native code) called directly in a coroutine:
# each call holds the loop for tens of milliseconds while other requests wait.
import asyncio
import hashlib
import os


async def login(password):
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac('sha256', password, salt, 200_000)  # @mark: native, on the loop
    await asyncio.sleep(0.005)
    return digest


async def main():
    for _ in range(2):
        await asyncio.gather(*(login(b'secret-%d' % i) for i in range(5)))


asyncio.run(main())
