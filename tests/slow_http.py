"""A local HTTP service that takes its time answering, counting the requests for each path:
lets tests see how often an HTTP action really ran while it was in flight."""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SlowServer:
    """Answers every GET on 127.0.0.1 after ``delay`` seconds with ``body`` (JSON)."""

    def __init__(self, delay: float, body: bytes = b'{"ok": true}') -> None:
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        pause = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server.lock:
                    server.hits[self.path] += 1
                pause.wait(delay)  # the remote system takes its time
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the caller died waiting (a killed worker)
                    pass

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, name="slow-http")

    @property
    def total(self) -> int:
        with self.lock:
            return sum(self.hits.values())

    def __enter__(self) -> SlowServer:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
