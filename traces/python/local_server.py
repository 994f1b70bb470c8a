"""A slow local web page and a small aiohttp-like client, so the article's examples run offline.

Run as a program it serves every GET after DELAY seconds (default 0.2, about what a news site's
front page takes) with a 32 KB HTML page, prints its port, and exits when its standard input closes.
Imported, `start()` launches that server in a child process (so its threads and sleeps stay out of
the profile of the program under test) and returns its URL; `ClientSession` offers the part of
aiohttp's API the article uses (`async with session.get(url) as response: await response.text()`)
on top of asyncio streams. Standard library only.
"""

import asyncio
import atexit
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PAGE = ("<!doctype html><html><body>" + "<p>lorem ipsum dolor sit amet</p>" * 1000 + "</body></html>").encode()


def start(delay=0.2):
    """Start the server in a child process; return its base URL. It stops when this process exits."""
    # A profiler may wrap sys.executable to follow child processes (scalene does); the real
    # interpreter keeps the server's threads and sleeps out of the profile of the program under test.
    python = getattr(sys, "_base_executable", None) or sys.executable
    server = subprocess.Popen(
        [python, __file__, str(delay)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    port = int(server.stdout.readline())
    atexit.register(_stop, server)
    return f"http://127.0.0.1:{port}/"


def _stop(server):
    server.stdin.close()
    server.wait(timeout=5)


class ClientResponse:
    def __init__(self, status, body):
        self.status = status
        self._body = body

    async def text(self):
        return self._body.decode("utf-8", "replace")


class _Request:
    def __init__(self, url):
        self._url = urlsplit(url)

    async def __aenter__(self):
        reader, writer = await asyncio.open_connection(self._url.hostname, self._url.port or 80)
        path = self._url.path or "/"
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self._url.netloc}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status_line = await reader.readline()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        writer.close()
        await writer.wait_closed()
        return ClientResponse(int(status_line.split()[1]), body)

    async def __aexit__(self, *exc):
        return False


class ClientSession:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    def get(self, url):
        return _Request(url)


def _serve(delay):
    class SlowPage(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(delay)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowPage)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # until the parent closes our input or exits
    server.shutdown()


if __name__ == "__main__":
    _serve(float(sys.argv[1]) if len(sys.argv) > 1 else 0.2)
