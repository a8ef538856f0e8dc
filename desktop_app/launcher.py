"""The ``baton`` command: the desktop app with no command, the command line with one."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    smoke = "--smoke" in args
    if smoke:
        args.remove("--smoke")
    url = None
    if args[:1] == ["--db"] and len(args) == 2:
        url, args = args[1], []
    if args:
        from engine.cli.main import main as cli

        return cli(args)
    from desktop_app.app import run

    return run(url, smoke=smoke)


if __name__ == "__main__":
    sys.exit(main())
