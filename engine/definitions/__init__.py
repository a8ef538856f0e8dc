"""Orchestration definitions: the versioned file format, its validation and JSON Schema."""

from engine.definitions.durations import DurationValue, parse_duration
from engine.definitions.loading import (
    json_schema,
    load_data,
    load_file,
    load_text,
    to_data,
    to_json,
    to_yaml,
)
from engine.definitions.model import FORMAT_VERSION, Orchestration
from engine.definitions.problems import DefinitionError, Problem

__all__ = [
    "FORMAT_VERSION",
    "DefinitionError",
    "DurationValue",
    "Orchestration",
    "Problem",
    "json_schema",
    "load_data",
    "load_file",
    "load_text",
    "parse_duration",
    "to_data",
    "to_json",
    "to_yaml",
]
