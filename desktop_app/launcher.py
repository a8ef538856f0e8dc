"""The ``baton`` command: the desktop app with no command, the command line with one."""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before anything else is imported: start-up is timed from here

import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from engine.loading import loading  # noqa: E402

loading()  # the collector waits while the app or a command imports what it needs


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    smoke = "--smoke" in args
    if smoke:
        args.remove("--smoke")
    url = None
    # The app takes --db (and a link); any other arguments are a command-line command, which
    # reads --db itself.
    if (
        args[:1] == ["--db"]
        and len(args) >= 2
        and (len(args) == 2 or (len(args) == 3 and args[2].startswith("baton:")))
    ):
        url, args = args[1], args[2:]
    link = None
    if len(args) == 1 and args[0].startswith("baton:"):  # an e-mail's link (the .desktop %u)
        link, args = args[0], []
        from desktop_app.links import BadLink, Link, hand_to_running

        try:
            Link.parse(link)
        except BadLink as exc:
            print(f"baton: {exc}", file=sys.stderr)
            return 2
        if hand_to_running(link):
            return 0  # the Baton already open shows it
    if args:
        from engine.cli.main import main as cli

        return cli(args)
    from desktop_app.app import run

    return run(url, smoke=smoke, link=link, started=STARTED)


if __name__ == "__main__":
    sys.exit(main())
