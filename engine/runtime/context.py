"""What expressions see during a run, and the definition a run is pinned to."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from engine.definitions import Orchestration, load_data
from engine.definitions.model import Stage
from engine.statuses import StepStatus
from engine.store.models import OrchestrationRow, RecordRow, VersionRow
from engine.store.rows import RunRec

_CACHE_SIZE = 256


@dataclass(frozen=True)
class Pinned:
    """A run's definition: parsed once per process, with its blank state."""

    definition: Orchestration
    blank: dict[str, Any]
    orchestration: str
    version: int


# One cache per database engine: version ids are only unique within one database.
_caches: weakref.WeakKeyDictionary[Any, OrderedDict[int, Pinned]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _blank_state(definition: Orchestration) -> dict[str, Any]:
    """Every stage and step, not yet visited: expressions may name any of them at any time."""
    state: dict[str, Any] = {}
    for stage in definition.stages():
        entry: dict[str, Any] = {"status": None, "visits": 0}
        for step in stage.steps:
            entry[step.name] = {"status": StepStatus.NOT_STARTED, "outputs": {}}
        state[stage.name] = entry
    return state


def record_context(row: RecordRow) -> dict[str, Any]:
    """The record as expressions see it: its fields plus id and owner."""
    return {**row.data, "id": row.id, "owner": row.owner}


def definition_for(session: Session, version_id: int) -> Pinned:
    """The definition of a stored version. Versions never change, so the cache never goes stale."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with _cache_lock:
        cache = _caches.setdefault(engine, OrderedDict())
        hit = cache.get(version_id)
        if hit is not None:
            cache.move_to_end(version_id)
            return hit
    version = session.get_one(VersionRow, version_id)
    definition = load_data(version.definition)
    name = session.get_one(OrchestrationRow, version.orchestration_id).name
    entry = Pinned(definition, _blank_state(definition), name, version.number)
    with _cache_lock:
        cache[version_id] = entry
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)
    return entry


def run_names(
    session: Session,
    run: RunRec,
    pinned: Pinned,
    *,
    record_cache: dict[int, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The names an expression of ``run`` may use. The record is read afresh each time."""
    # Expressions only read, so a shallow merge per stage is enough (no deep copy).
    state = run.state or {}
    names: dict[str, Any] = {
        stage: {**blank, **state[stage]} if stage in state else blank
        for stage, blank in pinned.blank.items()
    }
    record: dict[str, Any] | None = None
    if run.record_id is not None:
        if record_cache is not None and run.record_id in record_cache:
            record = record_cache[run.record_id]
        else:
            row = session.get(RecordRow, run.record_id)
            record = record_context(row) if row is not None else None
            if record_cache is not None and record is not None:
                record_cache[run.record_id] = record
    names["record"] = record
    names["vars"] = dict(run.variables or {})
    names["run"] = {
        "id": run.id,
        "started_at": run.started_at,
        "started_by": run.started_by,
        "orchestration": pinned.orchestration,
        "version": pinned.version,
        "record_id": run.record_id,
    }
    return names


def stage_of(definition: Orchestration, name: str) -> Stage:
    stage = definition.stage(name)
    if stage is None:  # a stored run always names a stage of its own version
        raise LookupError(f"stage '{name}' is not in the definition")
    return stage
