"""HTTP actions share one client: a connection is kept for the next call to the same host, a
kept connection the server has closed meanwhile is replaced without the call being lost or
made twice, and the answers are the same as before (status, JSON body, redirects)."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine.runtime import http_client
from engine.runtime.http_client import HttpFailure, request


class KeepAliveServer:
    """HTTP/1.1 on 127.0.0.1, counting connections and requests per path; ``/close`` answers
    and then closes the connection, as a server ending an idle keep-alive would."""

    def __init__(self) -> None:
        self.connections = 0
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with server.lock:
                    server.connections += 1

            def do_GET(self) -> None:
                with server.lock:
                    server.hits[self.path] += 1
                if self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/target")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"path": "%s"}' % self.path.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if self.path == "/close":
                    self.close_connection = True  # no "Connection: close": the client keeps it

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="keep-alive-http")
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[KeepAliveServer]:
    http_client.POOL.clear()
    running = KeepAliveServer()
    yield running
    running.close()
    http_client.POOL.clear()


def get(url: str) -> http_client.Answer:
    return request("GET", url, body=None, headers={}, timeout=10)


def test_calls_to_one_host_share_a_connection(server: KeepAliveServer) -> None:
    answers = [get(f"{server.url}/n/{n}") for n in range(10)]
    assert [a.status for a in answers] == [200] * 10
    assert answers[3].body == b'{"path": "/n/3"}'
    assert server.connections == 1  # urllib opened one connection per call


def test_a_kept_connection_the_server_closed_is_replaced_and_the_call_made_once(
    server: KeepAliveServer,
) -> None:
    assert get(f"{server.url}/close").status == 200
    answer = get(f"{server.url}/after")
    assert (answer.status, answer.body) == (200, b'{"path": "/after"}')
    assert server.hits == Counter({"/close": 1, "/after": 1})
    assert server.connections == 2


def test_a_redirect_is_followed(server: KeepAliveServer) -> None:
    answer = get(f"{server.url}/moved")
    assert (answer.status, answer.body) == (200, b'{"path": "/target"}')


def test_no_answer_is_a_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens there once it is closed
    with pytest.raises(HttpFailure, match="refused"):
        get(f"http://127.0.0.1:{port}/gone")
    with pytest.raises(HttpFailure, match="is not an http:// or https:// address"):
        get("ftp://example.com/file")


def test_the_proxy_variables_are_followed_as_they_change(
    server: KeepAliveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whether a host goes through a proxy is worked out once per value of the variables: a
    # change to them is seen by the next call. (The server is its own proxy here: a proxied
    # request names the whole URL in its request line.)
    for name in http_client._PROXY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", server.url)
    assert get(f"{server.url}/via").status == 200
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert get(f"{server.url}/bypassed").status == 200
    monkeypatch.delenv("no_proxy")
    monkeypatch.delenv("http_proxy")
    assert get(f"{server.url}/direct").status == 200
    assert server.hits == Counter({f"{server.url}/via": 1, "/bypassed": 1, "/direct": 1})
