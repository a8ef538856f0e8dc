"""The demo: orchestrations, people, records, and runs in several states with work waiting.

A newcomer's first look at Baton, so everything here is named as a business would name it.
Loading twice changes nothing.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import yaml

from engine.errors import BatonError
from engine.services.baton import Baton

# Beside the source tree, or inside a PyInstaller bundle (which unpacks data to _MEIPASS).
RESOURCES = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2])) / "resources"


def resources_dir() -> Path:
    return RESOURCES


def _yaml(name: str) -> Any:
    with open(RESOURCES / "demo" / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def demo_records() -> dict[str, list[dict[str, Any]]]:
    """The demo's sample records, by object type."""
    records: dict[str, list[dict[str, Any]]] = _yaml("records.yaml")
    return records


def _complete(
    baton: Baton,
    user: str,
    step: str,
    values: dict[str, Any],
    outcome: str | None = None,
    comment: str | None = None,
    run_id: int | None = None,
) -> None:
    items = [
        i
        for i in baton.work.list(user=user)
        if i.step == step and (run_id is None or i.run_id == run_id)
    ]
    baton.as_user(user).work.complete(
        items[0].id, values, user=user, outcome=outcome, comment=comment
    )


def load_demo_people(baton: Baton) -> None:
    """The demo's people, queues and groups, and the install's owner: what the desktop needs
    before its window opens (the rest of the demo may load after). Whoever or whatever
    exists already is kept."""
    admin = baton.as_user("admin")
    directory = _yaml("directory.yaml")
    known = {u.username for u in baton.directory.users()}
    for user in directory["users"]:
        if user["username"] not in known:
            admin.directory.create_user(
                user["username"],
                display_name=user["display_name"],
                email=user["email"],
                role=user["role"],
            )
    for kind in ("queue", "group"):
        groups = {g.name for g in admin.directory.groups(kind)}
        for group in directory[f"{kind}s"]:
            if group["name"] in groups:
                continue
            admin.directory.create_group(kind, group["name"], label=group["label"])
            for member in group["members"]:
                admin.directory.add_member(kind, group["name"], member)
    if admin.directory.owner() is None:
        admin.directory.set_owner("admin")  # a single-user install acts as its owner


def load_demo(baton: Baton) -> list[str]:
    """Load the demo into ``baton``'s database; returns lines saying what was done."""
    if any(o.name == "customer_onboarding" for o in baton.definitions.list()):
        return ["the demo is already loaded"]
    load_demo_people(baton)
    directory = _yaml("directory.yaml")
    admin = baton.as_user("admin")
    admin.calendars.define_from_file(str(RESOURCES / "demo" / "calendars.yaml"))
    admin.records.define_types_from_file(str(RESOURCES / "demo" / "object_types.yaml"))
    for path in sorted((RESOURCES / "definitions").glob("*.yaml")):
        admin.definitions.import_file(str(path), activate=True)

    records = demo_records()
    customers = [
        admin.records.create("customer", dict(values), owner="alice")
        for values in records["customer"]
    ]
    refunds = [
        admin.records.create("refund_request", dict(values), owner="frank")
        for values in records["refund_request"]
    ]

    alice = baton.as_user("alice")
    acme = alice.runs.start(
        "customer_onboarding",
        {"customer_name": "Acme Corporation", "amount": 250000},
        record_id=customers[0].id,
    )
    globex = alice.runs.start(
        "customer_onboarding",
        {"customer_name": "Globex", "amount": 40000},
        record_id=customers[1].id,
    )
    initech = alice.runs.start(
        "customer_onboarding",
        {"customer_name": "Initech", "amount": 80000},
        record_id=customers[2].id,
    )
    umbrella = alice.runs.start(
        "customer_onboarding",
        {"customer_name": "Umbrella Health", "amount": 20000},
        record_id=customers[3].id,
    )
    broken = alice.runs.start(
        "customer_onboarding",
        {"customer_name": "Soylent", "amount": 15000, "account_manager": "jdoe"},
    )
    baton.worker.run_once()

    intake = {"contract_signed": True, "billing_email": "ap@acme.example"}
    _complete(baton, "alice", "intake_check", intake, run_id=acme.id)
    _complete(
        baton,
        "lena",
        "legal",
        {"risk": "low", "findings": "Standard terms."},
        "approve",
        "No legal concerns.",
        run_id=acme.id,
    )
    _complete(
        baton,
        "alice",
        "intake_check",
        {**intake, "billing_email": "accounts@initech.example"},
        run_id=initech.id,
    )
    for user, step in (("lena", "legal"), ("sam", "security"), ("frank", "finance")):
        _complete(baton, user, step, {"risk": "low"}, "approve", run_id=initech.id)
    baton.worker.run_once()
    baton.as_user("carol").runs.cancel(umbrella.id, "Customer chose another supplier")

    hiring = baton.as_user("carol").runs.start(
        "employee_hiring", {"candidate_name": "Dana Whitfield", "position": "Data Analyst"}
    )
    with contextlib.suppress(BatonError):  # the demo must load even if a trigger refuses
        baton.as_user("frank").records.update(refunds[2].id, {"status": "Submitted"})
    baton.worker.run_once()
    return [
        "loaded the demo:",
        f"  {len(directory['users'])} people in {len(directory['queues'])} queues and {len(directory['groups'])} groups",
        "  orchestrations: customer_onboarding, employee_hiring, refund_request",
        f"  runs: {acme.id} and {globex.id} waiting for work, {initech.id} completed, {umbrella.id} canceled, "
        f"{broken.id} failed, {hiring.id} hiring in screening, refunds started by their records",
        f"try: baton work list --user alice   |   baton runs list   |   baton runs show {acme.id}",
    ]
