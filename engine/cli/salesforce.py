"""``baton definitions import-salesforce PATH…``: Salesforce orchestrations become Baton
definitions; the report of every element is printed, and written with ``--report FILE``
(Markdown, or JSON when the name ends in ``.json``). Exit 1 when anything had a problem."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from engine.cli.output import write_file

Handler = Callable[[argparse.Namespace], int]


def add_parser(definitions: Any, add: Callable[[Any, str, Handler, str], Any]) -> None:
    """Register the subcommand under ``baton definitions``."""
    p = add(
        definitions,
        "import-salesforce",
        import_salesforce,
        "import Salesforce orchestrations (.flow files, a flows/ folder, an MDAPI or SFDX "
        "project) as draft versions, with a report of every element",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--activate", action="store_true", help="activate what imported cleanly")
    p.add_argument(
        "--drafts",
        action="store_true",
        help="store orchestrations with problems too, as drafts to fix in the Designer",
    )
    p.add_argument(
        "--report", metavar="FILE", help="write the report as Markdown (or JSON: FILE.json)"
    )
    p.add_argument("--dry-run", action="store_true", help="convert and report, storing nothing")


def import_salesforce(args: argparse.Namespace) -> int:
    if args.dry_run:
        from engine.services.salesforce import SalesforceService

        report = SalesforceService.preview(args.paths)
    else:
        from engine.cli.commands import open_baton

        report = open_baton(args).salesforce.import_paths(
            args.paths, activate=args.activate, drafts=args.drafts
        )
    print(report.to_text())
    if args.report:
        text = report.to_json() if args.report.endswith(".json") else report.to_markdown()
        write_file(args.report, text)
        print(f"report written to {args.report}")
    return 0 if report.ok else 1
