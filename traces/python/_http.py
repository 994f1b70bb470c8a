"""A slow local HTTP server on a thread and a tiny asyncio HTTP client, for the examples that make
requests (there is no internet here). Standard library only."""

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Slow(BaseHTTPRequestHandler):
    delay = 0.05

    def do_GET(self):
        time.sleep(self.delay)  # the server's own thread: the program's loop stays free
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def start_server(delay=0.05):
    """Starts the server on a free port; returns its port."""
    handler = type('Handler', (_Slow,), {'delay': delay})
    server_class = type('Server', (ThreadingHTTPServer,), {'request_queue_size': 128})  # no SYN retries at 10 at once
    server = server_class(('127.0.0.1', 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


async def get(port, path='/'):
    """GET http://127.0.0.1:port/path with asyncio streams; returns the body."""
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(b'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' % path.encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    return response.split(b'\r\n\r\n', 1)[1]
