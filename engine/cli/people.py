"""CLI commands for people, their work's hand-offs, calendars, mail settings and the outbox."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

from engine.cli.arguments import whole
from engine.cli.output import print_json, table, when
from engine.errors import InvalidInput

if TYPE_CHECKING:
    from engine.services.baton import Baton


def _baton(args: argparse.Namespace) -> Baton:
    from engine.cli.commands import open_baton

    return open_baton(args)


def _password(args: argparse.Namespace) -> str | None:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    if getattr(args, "password", False):
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise InvalidInput("the two passwords differ")
        return first
    return None


def add_parsers(groups: Any, add: Any, json_flag: Any) -> None:
    users = groups.add_parser("users", help="people").add_subparsers(dest="command", required=True)
    json_flag(add(users, "list", users_list, "list users"))
    p = add(users, "show", users_show, "one user, with their groups and queues")
    p.add_argument("username")
    json_flag(p)
    p = add(users, "create", users_create, "create a user")
    p.add_argument("username")
    p.add_argument("--name", help="display name")
    p.add_argument("--email")
    p.add_argument("--role", default="user", choices=["admin", "supervisor", "user"])
    p.add_argument("--password", action="store_true", help="ask for a password")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p = add(users, "set-password", users_set_password, "set a user's password")
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true")
    p = add(users, "set-role", users_set_role, "change a user's role")
    p.add_argument("username")
    p.add_argument("role", choices=["admin", "supervisor", "user"])
    p = add(users, "set-timezone", users_set_timezone, "the time zone of a user's e-mails")
    p.add_argument("username")
    p.add_argument("zone", help="e.g. Europe/London; 'calendar' for the calendar's zone")
    p = add(users, "deactivate", users_deactivate, "deactivate: claims released, work flagged")
    p.add_argument("username")
    p.add_argument("--reason", required=True)
    p = add(users, "activate", users_activate, "activate a deactivated user")
    p.add_argument("username")
    p = add(users, "owner", users_owner, "who the command line acts as without --as")
    p.add_argument("username", nargs="?")

    for kind in ("group", "queue"):
        sub = groups.add_parser(f"{kind}s", help=f"{kind}s of people").add_subparsers(
            dest="command", required=True
        )
        json_flag(add(sub, "list", _with_kind(groups_list, kind), f"list {kind}s and members"))
        p = add(sub, "create", _with_kind(groups_create, kind), f"create a {kind}")
        p.add_argument("name")
        p.add_argument("--label")
        p.add_argument("--email", help=f"one address for the whole {kind}")
        for verb, handler in (("add", groups_add), ("remove", groups_remove)):
            p = add(sub, verb, _with_kind(handler, kind), f"{verb} a member")
            p.add_argument("name")
            p.add_argument("username")

    calendars = groups.add_parser("calendars", help="business calendars").add_subparsers(
        dest="command", required=True
    )
    json_flag(add(calendars, "list", calendars_list, "list business calendars"))
    p = add(calendars, "define", calendars_define, "create or replace calendars from a file")
    p.add_argument("file")
    p = add(calendars, "due", calendars_due, "when work started now (or at --from) is due")
    p.add_argument("duration", help="e.g. '2 business days'")
    p.add_argument("--calendar")
    p.add_argument("--from", dest="start", help="ISO date and time (default: now)")

    settings = groups.add_parser("settings", help="install-wide settings").add_subparsers(
        dest="command", required=True
    )
    p = add(settings, "smtp", settings_smtp, "set (or, with no options, show) the mail server")
    p.add_argument("--host")
    p.add_argument("--port", type=whole(1, 65535, "a port number"), default=587)
    p.add_argument("--security", choices=["none", "starttls", "ssl"], default="starttls")
    p.add_argument("--username")
    p.add_argument("--password-stdin", action="store_true")
    p.add_argument("--sender", default="baton@localhost", help="the From address")
    p.add_argument("--ca-file", help="trust this certificate authority (a private server)")

    outbox = groups.add_parser("outbox", help="outgoing e-mail").add_subparsers(
        dest="command", required=True
    )
    p = add(outbox, "list", outbox_list, "messages waiting, sent or failed")
    p.add_argument("--status", choices=["pending", "sending", "sent", "failed"])
    json_flag(p)


def _with_kind(handler: Any, kind: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        return int(handler(args, kind))

    return run


def users_list(args: argparse.Namespace) -> int:
    users = _baton(args).directory.users()
    if args.json:
        print_json(users)
        return 0
    table(
        ["USERNAME", "NAME", "ROLE", "E-MAIL", "ACTIVE", "GROUPS", "QUEUES"],
        [
            (
                u.username,
                u.display_name,
                u.role,
                u.email,
                "yes" if u.active else "no",
                ", ".join(u.groups),
                ", ".join(u.queues),
            )
            for u in users
        ],
    )
    return 0


def users_show(args: argparse.Namespace) -> int:
    user = _baton(args).directory.user(args.username)
    if args.json:
        print_json(user)
    else:
        print(
            f"{user.username}: {user.display_name} <{user.email or 'no e-mail'}>, {user.role}"
            f"{'' if user.active else ', deactivated'}"
        )
        print(f"  groups: {', '.join(user.groups) or '-'}; queues: {', '.join(user.queues) or '-'}")
    return 0


def users_create(args: argparse.Namespace) -> int:
    user = _baton(args).directory.create_user(
        args.username,
        display_name=args.name,
        email=args.email,
        role=args.role,
        password=_password(args),
    )
    print(f"created {user.role} {user.username}")
    return 0


def users_set_password(args: argparse.Namespace) -> int:
    password = _password(
        argparse.Namespace(password=not args.password_stdin, password_stdin=args.password_stdin)
    )
    assert password is not None
    _baton(args).directory.set_password(args.username, password)
    print(f"password of {args.username} set")
    return 0


def users_set_role(args: argparse.Namespace) -> int:
    user = _baton(args).directory.set_role(args.username, args.role)
    print(f"{user.username} is now {user.role}")
    return 0


def users_set_timezone(args: argparse.Namespace) -> int:
    zone = None if args.zone == "calendar" else args.zone
    user = _baton(args).directory.set_time_zone(args.username, zone)
    print(f"times in {user.username}'s e-mails: {user.time_zone or 'the calendar time zone'}")
    return 0


def users_deactivate(args: argparse.Namespace) -> int:
    done = _baton(args).directory.deactivate(args.username, args.reason)
    print(
        f"{done.username} deactivated: {done.claims_released} claim(s) released, "
        f"{done.items_flagged} work item(s) flagged for reassignment"
    )
    return 0


def users_activate(args: argparse.Namespace) -> int:
    _baton(args).directory.activate(args.username)
    print(f"{args.username} is active")
    return 0


def users_owner(args: argparse.Namespace) -> int:
    baton = _baton(args)
    if args.username:
        baton.directory.set_owner(args.username)
    print(f"owner: {baton.directory.owner() or '(none: the command line acts as the system)'}")
    return 0


def groups_list(args: argparse.Namespace, kind: str) -> int:
    groups = _baton(args).directory.groups(kind)
    if args.json:
        print_json(groups)
        return 0
    table(
        ["NAME", "LABEL", "E-MAIL", "MEMBERS"],
        [(g.name, g.label, g.email, ", ".join(g.members)) for g in groups],
        empty=f"no {kind}s",
    )
    return 0


def groups_create(args: argparse.Namespace, kind: str) -> int:
    group = _baton(args).directory.create_group(kind, args.name, label=args.label, email=args.email)
    print(f"created {kind} {group.name}")
    return 0


def groups_add(args: argparse.Namespace, kind: str) -> int:
    group = _baton(args).directory.add_member(kind, args.name, args.username)
    print(f"{kind} {group.name}: {', '.join(group.members)}")
    return 0


def groups_remove(args: argparse.Namespace, kind: str) -> int:
    group = _baton(args).directory.remove_member(kind, args.name, args.username)
    print(f"{kind} {group.name}: {', '.join(group.members) or 'no members'}")
    return 0


def calendars_list(args: argparse.Namespace) -> int:
    calendars = _baton(args).calendars.list()
    if args.json:
        print_json(calendars)
        return 0
    table(
        ["NAME", "TIME ZONE", "DEFAULT", "HOURS", "HOLIDAYS"],
        [
            (
                c.name,
                c.timezone,
                "yes" if c.is_default else "",
                "; ".join(
                    f"{d} {' '.join('-'.join(i) for i in iv)}" for d, iv in c.hours.items() if iv
                ),
                len(c.holidays),
            )
            for c in calendars
        ],
        empty="no calendars: due dates use Monday–Friday 09:00–17:00 UTC",
    )
    return 0


def calendars_define(args: argparse.Namespace) -> int:
    for info in _baton(args).calendars.define_from_file(args.file):
        print(
            f"calendar {info.name} ({info.timezone}){' — the default' if info.is_default else ''}"
        )
    return 0


def calendars_due(args: argparse.Namespace) -> int:
    import datetime as dt

    from engine import clock

    if args.start:
        try:
            start = dt.datetime.fromisoformat(args.start)
        except ValueError:
            raise InvalidInput(f"--from '{args.start}' is not an ISO date and time") from None
        start = start if start.tzinfo else start.replace(tzinfo=dt.UTC)
    else:
        start = clock.now()
    due = _baton(args).calendars.due(start, args.duration, args.calendar)
    print(f"due {due.isoformat()} ({when(due)} UTC)")
    return 0


def settings_smtp(args: argparse.Namespace) -> int:
    baton = _baton(args)
    if args.host is None:
        shown = baton.settings.smtp()
        print(shown if shown is not None else "no mail server set: e-mail waits in the outbox")
        return 0
    if args.ca_file:  # read when mail is sent: a path that cannot be read is refused now
        from engine.files import read_text

        read_text(args.ca_file)
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    shown = baton.settings.set_smtp(
        args.host,
        port=args.port,
        security=args.security,
        username=args.username,
        password=password,
        sender=args.sender,
        ca_file=args.ca_file,
    )
    print(f"mail goes through {shown['host']}:{shown['port']} ({shown['security']})")
    return 0


def outbox_list(args: argparse.Namespace) -> int:
    messages = _baton(args).mail.list(status=args.status)
    if args.json:
        print_json(messages)
        return 0
    table(
        ["ID", "STATUS", "TO", "SUBJECT", "TRIES", "CREATED", "LAST ERROR"],
        [
            (
                m["id"],
                m["status"],
                m["recipient"],
                m["subject"],
                m["attempts"],
                when(m["created_at"]),
                m["last_error"] or "",
            )
            for m in messages
        ],
        empty="the outbox is empty",
    )
    return 0
