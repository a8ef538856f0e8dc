"""Reading a file a person named: refused clearly when it is not something Baton can read.

Every command that reads a file (definitions, object types, calendars, events) goes through
here, so a FIFO, a directory, a device, a huge file or bytes that are not UTF-8 text get the
same one-sentence answer everywhere instead of a hang or a traceback.
"""

from __future__ import annotations

import os
import stat

MAX_FILE_BYTES = 10 * 1024 * 1024


class UnreadableFile(Exception):
    """The file cannot be read as text; the message says why, naming the file."""


def read_bytes(path: str, *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The file's content; only regular files up to ``limit`` bytes are read."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not hang before we can look at it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableFile(f"{path} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{path} is not a regular file (a pipe, socket or device)")
        if info.st_size > limit:
            raise UnreadableFile(
                f"{path} is {info.st_size:,} bytes, more than the {limit:,} bytes Baton reads"
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError as exc:
                raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from None
            if not chunk:
                break
            size += len(chunk)
            if size > limit:  # the file grew while we read it
                raise UnreadableFile(f"{path} is more than the {limit:,} bytes Baton reads")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str, *, limit: int = MAX_FILE_BYTES) -> str:
    """The file as UTF-8 text (a byte-order mark is dropped)."""
    content = read_bytes(path, limit=limit)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{path} is not UTF-8 text (byte {exc.start} cannot be read)"
        ) from None
