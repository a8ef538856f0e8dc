"""Object types: the kinds of record (Customer, Refund Request …) and their fields."""

from __future__ import annotations

from pydantic import Field

from engine.definitions.model import FormField, Model, Name


class ObjectType(Model):
    name: Name
    label: str | None = None
    title_field: Name | None = Field(default=None, description="Field shown as the record's title")
    fields: list[FormField] = Field(default_factory=list)

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


class ObjectTypesFile(Model):
    format: int
    object_types: list[ObjectType]
