"""Business calendars: weekly working intervals, holidays, time zone, the length of a
business day, the default; and a preview that says when work assigned now falls due."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app import tasks
from desktop_app.admin.common import Fields, label, refusal, split
from desktop_app.session import AppSession
from engine.services.calendars import CalendarInfo

DAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
OFFICE = "09:00-17:00"
_DASH = re.compile(r"\s*[-–—]\s*")


def parse_intervals(text: str) -> list[list[str]]:
    """'09:00-12:30, 13:30-17:30' → [['09:00', '12:30'], ['13:30', '17:30']]. A piece
    without a dash stays one item, so the engine says what is wrong with it."""
    pieces = [p.strip() for p in text.split(",") if p.strip()]
    return [_DASH.split(piece, maxsplit=1) for piece in pieces]


def show_intervals(intervals: list[Any] | None) -> str:
    return ", ".join(f"{a}-{b}" for a, b in intervals or [])


def parse_holidays(text: str) -> list[str]:
    return [d for d in re.split(r"[\s,;]+", text) if d]


class CalendarForm(QWidget):
    saved = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.calendar: CalendarInfo | None = None
        self.taken: set[str] = set()  # the calendars there are: a new one needs its own name
        self.generation = 0
        self.title = label("New calendar", role="title", name="calendarTitle")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields = Fields(form)
        self.name = QLineEdit()
        self.name.setObjectName("calendar_name")
        self.name.setPlaceholderText("e.g. head_office (what orchestrations name in calendar:)")
        self.fields.add("name", "Name", self.name)
        self.zone = QComboBox()
        self.zone.setObjectName("calendar_timezone")
        self.zone.setEditable(True)
        self.zone.addItems(sorted(zoneinfo.available_timezones()))
        self.zone.setCurrentText("UTC")
        completer = QCompleter(self.zone.model(), self.zone)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.zone.setCompleter(completer)
        self.fields.add("timezone", "Time zone", self.zone)
        self.days: dict[str, QLineEdit] = {}
        for key, title in DAYS:
            line = QLineEdit()
            line.setObjectName(f"calendar_{key}")
            line.setPlaceholderText("closed — or e.g. 09:00-12:30, 13:30-17:30")
            self.days[key] = line
            form.addRow(title, line)
        self.holidays = QLineEdit()
        self.holidays.setObjectName("calendar_holidays")
        self.holidays.setPlaceholderText("dates, e.g. 2026-12-25, 2026-12-28")
        self.fields.add("holidays", "Holidays", self.holidays)
        self.per_day = QDoubleSpinBox()
        self.per_day.setObjectName("calendar_hours_per_day")
        self.per_day.setRange(0.25, 24)
        self.per_day.setSingleStep(0.5)
        self.per_day.setSuffix(" working hours")
        self.fields.add("hours_per_day", "A business day is", self.per_day)
        self.default = QCheckBox("The default calendar (for orchestrations that name none)")
        self.default.setObjectName("calendar_default")
        form.addRow("", self.default)
        self.problem = label(role="error", name="calendarProblem")
        self.problem.hide()
        self.duration = QLineEdit("2 business days")
        self.duration.setObjectName("previewDuration")
        self.answer = label(role="muted", name="previewAnswer")
        preview = QHBoxLayout()
        preview.addWidget(label("Work assigned now, due in"))
        preview.addWidget(self.duration, 1)
        self.save = QPushButton("Save calendar")
        self.save.setObjectName("saveCalendar")
        self.save.setProperty("role", "primary")
        self.save.clicked.connect(self._save)
        saving = QHBoxLayout()
        saving.addStretch(1)
        saving.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(label("Preview", role="heading"))
        layout.addLayout(preview)
        layout.addWidget(self.answer)
        layout.addWidget(self.problem)
        layout.addLayout(saving)
        layout.addStretch(1)
        for line in (*self.days.values(), self.holidays, self.duration):
            line.textEdited.connect(lambda _: self.check())
        self.name.textEdited.connect(lambda _: self.fields.show(self._name_problem()))
        self.zone.currentTextChanged.connect(lambda _: self.check())
        self.per_day.valueChanged.connect(lambda _: self.check())
        self.show_calendar(None)

    def spec(self) -> dict[str, Any]:
        """The calendar as the form shows it, as the calendar service takes it."""
        return {
            "timezone": self.zone.currentText().strip(),
            "hours": {
                key: parse_intervals(line.text())
                for key, line in self.days.items()
                if line.text().strip()
            },
            "holidays": parse_holidays(self.holidays.text()),
            "hours_per_day": self.per_day.value(),
        }

    def show_calendar(self, calendar: CalendarInfo | None) -> None:
        self.calendar = calendar
        self.problem.hide()
        self.fields.show({})
        self.name.setReadOnly(calendar is not None)
        if calendar is None:
            self.title.setText("New calendar")
            self.name.clear()
            self.zone.setCurrentText("UTC")
            for key, line in self.days.items():
                line.setText(OFFICE if key not in ("sat", "sun") else "")
            self.holidays.clear()
            self.per_day.setValue(8.0)
            self.default.setChecked(False)
        else:
            self.title.setText(calendar.name + (" (default)" if calendar.is_default else ""))
            self.name.setText(calendar.name)
            self.zone.setCurrentText(calendar.timezone)
            for key, line in self.days.items():
                line.setText(show_intervals(calendar.hours.get(key)))
            self.holidays.setText(", ".join(calendar.holidays))
            self.per_day.setValue(calendar.hours_per_day)
            self.default.setChecked(calendar.is_default)
        self.check()

    def check(self) -> None:
        """Work out the preview in the background; a problem is the engine's own words."""
        spec, duration = self.spec(), self.duration.text().strip()
        name = self.name.text().strip() or "this calendar"
        calendars = self.session.service.calendars
        self.generation += 1
        generation = self.generation
        now = dt.datetime.now(dt.UTC)
        tasks.run(
            lambda: calendars.preview(
                now,
                duration,
                timezone=spec["timezone"],
                hours=spec["hours"],
                holidays=tuple(spec["holidays"]),
                hours_per_day=spec["hours_per_day"],
                name=name,
            ),
            lambda due: self._previewed(generation, due),
            lambda exc: self._unpreviewable(generation, exc),
        )

    def _previewed(self, generation: int, due: dt.datetime) -> None:
        if generation != self.generation:
            return
        zone = self.zone.currentText().strip()
        local = due.astimezone(zoneinfo.ZoneInfo(zone))
        self.answer.setProperty("role", "muted")
        self.answer.setText(f"falls due at {local:%A %d %B %Y, %H:%M} ({zone})")
        self._restyle()

    def _unpreviewable(self, generation: int, exc: BaseException) -> None:
        if generation != self.generation:
            return
        self.answer.setProperty("role", "error")
        self.answer.setText(refusal(exc)[0])
        self._restyle()

    def _restyle(self) -> None:
        style = self.answer.style()
        style.unpolish(self.answer)
        style.polish(self.answer)

    def _name_problem(self) -> dict[str, str]:
        name = self.name.text().strip()
        if self.calendar is None and name in self.taken:
            return {"name": f"a calendar named '{name}' exists; choose it in the list to change it"}
        return {}

    def _save(self) -> None:
        spec, name = self.spec(), self.name.text().strip()
        default = self.default.isChecked()
        calendars = self.session.service.calendars
        problem = self._name_problem() or (
            {} if name else {"name": "say what the calendar is called"}
        )
        if problem:
            self.fields.show(problem)
            return
        self.save.setEnabled(False)
        self.problem.hide()

        def done(calendar: CalendarInfo) -> None:
            self.save.setEnabled(True)
            self.show_calendar(calendar)
            self.saved.emit(calendar.name)

        def refused(exc: BaseException) -> None:
            self.save.setEnabled(True)
            self.problem.setText(refusal(exc)[0])
            self.problem.show()

        tasks.run(lambda: calendars.define(name, default=default, **spec), done, refused)


class CalendarsSection(QWidget):
    title = "Calendars"
    status = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.calendars: list[CalendarInfo] = []
        self.chosen: str | None = None
        self.generation = 0
        self.list = QListWidget()
        self.list.setObjectName("calendarList")
        self.list.currentItemChanged.connect(self._chosen)
        self.new = QPushButton("New calendar")
        self.new.setObjectName("newCalendar")
        self.new.clicked.connect(self._new)
        self.hint = label(
            "Without any calendar, due dates count Monday–Friday 09:00–17:00 UTC.", role="muted"
        )
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.new, 0, Qt.AlignmentFlag.AlignLeft)
        column.addWidget(self.list, 1)
        column.addWidget(self.hint)
        self.form = CalendarForm(session)
        self.form.saved.connect(self._saved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split(left, self.form, (360, 800)))

    def reload(self) -> None:
        calendars = self.session.service.calendars
        self.generation += 1
        generation = self.generation
        tasks.run(calendars.list, lambda found: self._fill(generation, found))

    def clear(self) -> None:
        """Someone else signed in: nothing of the previous person's view stays."""
        self.generation += 1
        self.chosen = None
        self.calendars = []
        self.list.clear()
        self.form.show_calendar(None)

    def _fill(self, generation: int, calendars: list[CalendarInfo]) -> None:
        if generation != self.generation:
            return
        self.calendars = calendars
        self.form.taken = {c.name for c in calendars}
        self.list.blockSignals(True)
        self.list.clear()
        for calendar in calendars:
            item = QListWidgetItem(
                f"{calendar.name} — {calendar.timezone}"
                + (" · default" if calendar.is_default else "")
            )
            item.setData(Qt.ItemDataRole.UserRole, calendar.name)
            self.list.addItem(item)
            if calendar.name == self.chosen:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def _chosen(self, item: QListWidgetItem | None, _previous: Any) -> None:
        if item is None:
            return
        self.chosen = str(item.data(Qt.ItemDataRole.UserRole))
        found = next((c for c in self.calendars if c.name == self.chosen), None)
        self.form.show_calendar(found)

    def _new(self) -> None:
        self.chosen = None
        self.list.clearSelection()
        self.form.show_calendar(None)

    def _saved(self, name: str) -> None:
        self.chosen = name
        self.status.emit(f"Saved calendar {name}")
        self.reload()
