"""One HTTP client for every HTTP action of a process: keep-alive connections, pooled per host.

A worker running many calls at once to the same service would otherwise open (and, for
HTTPS, negotiate) a connection per call. The standard library's ``http.client`` does the
work; this module keeps finished connections for the next call to the same scheme, host and
port, at most ``IDLE_PER_HOST`` of them. A connection that was idle is reused optimistically:
if the server closed it meanwhile (it answers nothing, or the send fails), the request is
sent once more on a fresh connection, as browsers and urllib3 do; a request that reached the
server and got any answer is never sent twice.

A URL that the environment routes through a proxy (``http_proxy``, ``https_proxy``,
``no_proxy``) goes through urllib instead, which knows how to talk to proxies. Whether a host
goes through a proxy is worked out once for each value of those variables (reading the whole
environment, as urllib does, cost a worker about a millisecond of CPU a call).
"""

from __future__ import annotations

import functools
import http.client
import os
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

IDLE_PER_HOST = 64
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# A reused connection the server had closed fails with one of these before any answer.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)

_Key = tuple[str, str, int]


class HttpFailure(Exception):
    """The request got no answer: the host is unreachable, refused, timed out or broke off."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class _Pool:
    """Idle connections per (scheme, host, port); shared by threads."""

    def __init__(self) -> None:
        self._idle: dict[_Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, key: _Key, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            connection = idle.pop() if idle else None
        if connection is not None:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            return connection, True
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(
                host, port, timeout=timeout, context=_tls_context()
            ), False
        return http.client.HTTPConnection(host, port, timeout=timeout), False

    def give(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < IDLE_PER_HOST:
                idle.append(connection)
                return
        connection.close()

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


POOL = _Pool()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def request(
    method: str,
    url: str,
    *,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
    limit: int = 1_000_000,
) -> Answer:
    """Send the request and read at most ``limit`` bytes of the answer; redirects are
    followed as urllib follows them. Raises HttpFailure when no answer came."""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpFailure(f"'{url}' is not an http:// or https:// address")
        if _proxied(parts.scheme, parts.hostname):
            return _via_urllib(method, url, body, headers, timeout, limit)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise HttpFailure(str(exc)) from None
        key = (parts.scheme, parts.hostname, port)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        status, payload, location = _send(key, method, path, body, headers, timeout, limit)
        if status not in REDIRECTS or not location:
            return Answer(status, payload)
        if method in ("GET", "HEAD"):
            pass
        elif method == "POST" and status in (301, 302, 303):
            method, body = "GET", None
        else:
            return Answer(status, payload)
        url = urllib.parse.urljoin(url, location)
    raise HttpFailure(f"more than {MAX_REDIRECTS} redirects")


def _send(
    key: _Key,
    method: str,
    path: str,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
    limit: int,
) -> tuple[int, bytes, str | None]:
    while True:
        connection, reused = POOL.take(key, timeout)
        try:
            connection.request(method, path, body=body, headers=dict(headers))
            response = connection.getresponse()
        except _STALE as exc:
            connection.close()
            if reused:
                continue  # the server had closed the idle connection: nothing reached it
            raise HttpFailure(str(exc) or type(exc).__name__) from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise HttpFailure(str(exc) or type(exc).__name__) from None
        try:
            payload = response.read(limit)
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise HttpFailure(str(exc) or type(exc).__name__) from None
        if response.isclosed() and not response.will_close:
            POOL.give(key, connection)  # read to the end: ready for the next request
        else:
            connection.close()
        return response.status, payload, response.getheader("Location")


# What urllib reads to route an http(s) request (a CGI request's HTTP_PROXY it ignores).
_PROXY_ENV = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY")


def _proxied(scheme: str, host: str) -> bool:
    settings = tuple(os.environ.get(name) for name in (*_PROXY_ENV, "REQUEST_METHOD"))
    return _through_proxy(scheme, host, settings)


@functools.lru_cache(maxsize=1024)
def _through_proxy(scheme: str, host: str, _settings: tuple[str | None, ...]) -> bool:
    """urllib's answer for this host while the proxy variables hold ``_settings``."""
    proxies = urllib.request.getproxies()
    return scheme in proxies and not urllib.request.proxy_bypass(host)


def _via_urllib(
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
    limit: int,
) -> Answer:
    sent = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    try:
        with urllib.request.urlopen(sent, timeout=timeout) as response:
            return Answer(response.status, response.read(limit))
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, exc.read(limit))
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise HttpFailure(str(exc)) from None
