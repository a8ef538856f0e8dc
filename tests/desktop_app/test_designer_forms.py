"""The form builder, through its widgets: a step's Form offers "New form…", adding a field asks
its type, every setting of a field is edited, and the preview is the form the user sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QListWidget,
    QPushButton,
    QWidget,
)

from desktop_app.designer.document import DesignDocument
from desktop_app.designer.form_builder import FieldSettings, FormBuilder
from desktop_app.designer.properties import NEW_FORM, PropertyPanel
from engine.definitions import editing
from engine.definitions.inspection import inspect

DEFINITIONS = Path(__file__).parents[2] / "resources" / "definitions"


def onboarding() -> dict[str, Any]:
    return yaml.safe_load((DEFINITIONS / "customer_onboarding.yaml").read_text())


def find(panel: QWidget, kind: type, name: str) -> Any:
    found = panel.findChild(kind, name)
    assert found is not None, f"no {kind.__name__} named {name}"
    return found


def choose_field_type(qtbot: Any, builder: FormBuilder, type_name: str) -> None:
    """Click "Add field…", then the type in the menu it opens."""
    qtbot.mouseClick(builder.add_button, Qt.MouseButton.LeftButton)
    menu = builder.type_menu
    qtbot.waitUntil(menu.isVisible)
    action = next(a for a in menu.actions() if a.text() == type_name)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())


def tick(qtbot: Any, box: QCheckBox) -> None:
    """Click the box itself (a stretched check box is clickable only on its box and text)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def type_into(qtbot: Any, line: QLineEdit, text: str) -> None:
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


class Builder:
    """The property panel of one step, rebuilt after every change as the Designer does."""

    def __init__(self, qtbot: Any, document: DesignDocument) -> None:
        self.qtbot = qtbot
        self.document = document
        self.panel = PropertyPanel(document)
        qtbot.addWidget(self.panel)
        self.panel.resize(470, 1400)
        self.panel.show()

    def settle(self) -> None:
        self.qtbot.waitUntil(lambda: not self.panel._pending)
        QApplication.processEvents()

    def get(self, kind: type, name: str) -> Any:
        self.settle()
        return find(self.panel, kind, name)

    def builder(self, form: str) -> FormBuilder:
        return self.get(FormBuilder, f"forms.{form}")


def test_a_step_gets_a_new_form_with_typed_fields_and_a_live_preview(qtbot: Any) -> None:
    data = onboarding()
    data, stage = editing.add_stage(data, 1, "Pricing")
    data, task = editing.add_step(data, stage)
    document = DesignDocument(data)
    document.select((stage, task))
    ui = Builder(qtbot, document)

    combo = ui.get(QComboBox, f"{stage}.{task}.form")
    assert combo.itemText(combo.count() - 1) == NEW_FORM
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_End)  # picks the last choice, "New form…"
    form = editing.step(document.data, stage, task)["form"]
    assert form == "new_task_form" and document.stack.count() == 1
    assert ui.get(QComboBox, f"{stage}.{task}.form").currentText() == form

    choose_field_type(qtbot, ui.builder(form), "Picklist")
    choose_field_type(qtbot, ui.builder(form), "Currency")
    choose_field_type(qtbot, ui.builder(form), "Date")
    fields = editing.form(document.data, form)["fields"]
    assert [(f["name"], f["type"]) for f in fields] == [
        ("picklist", "picklist"),
        ("currency", "currency"),
        ("date", "date"),
    ]
    assert document.stack.undoText() == f"Add date field to {form}"

    # the first field: renamed (its derived label follows), a label, required, options, default
    ui.get(QListWidget, f"forms.{form}.fields").setCurrentRow(0)
    first = f"forms.{form}.fields[0]"
    type_into(qtbot, ui.get(QLineEdit, f"{first}.name"), "risk")
    assert editing.form(document.data, form)["fields"][0]["label"] == "Risk"
    type_into(qtbot, ui.get(QLineEdit, f"{first}.label"), "Risk level")
    tick(qtbot, ui.get(QCheckBox, f"{first}.required"))
    type_into(qtbot, ui.get(QLineEdit, f"{first}.options.new"), "High")
    options = ui.get(QListWidget, f"{first}.options")
    options.setCurrentRow(2)
    qtbot.mouseClick(ui.get(QPushButton, f"{first}.options.up"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(ui.get(QPushButton, f"{first}.options.up"), Qt.MouseButton.LeftButton)
    ui.get(QListWidget, f"{first}.options").setCurrentRow(2)
    qtbot.mouseClick(ui.get(QPushButton, f"{first}.options.remove"), Qt.MouseButton.LeftButton)
    default = ui.get(QComboBox, f"{first}.default")
    default.setFocus()
    qtbot.keyClick(default, Qt.Key.Key_End)
    default.activated.emit(default.currentIndex())  # a closed combo's keys do not "activate"
    risk = editing.form(document.data, form)["fields"][0]
    assert risk == {
        "name": "risk",
        "label": "Risk level",
        "type": "picklist",
        "required": True,
        "options": ["High", "Option 1"],
        "default": "Option 1",
    }

    # the second: a validation expression (checked as typed, `value` known) and its message
    ui.get(QListWidget, f"forms.{form}.fields").setCurrentRow(1)
    second = f"forms.{form}.fields[1]"
    type_into(qtbot, ui.get(QLineEdit, f"{second}.default"), "ten")
    assert "'ten' is not a number" in ui.get(FieldSettings, second).default_problem.text()
    type_into(qtbot, ui.get(QLineEdit, f"{second}.default"), "250")
    expression = ui.get(QWidget, f"{second}.validation.expression")
    type_into(qtbot, expression.line, "value > 0")
    assert expression.problem.isHidden(), expression.problem.text()
    type_into(qtbot, ui.get(QLineEdit, f"{second}.validation.message"), "More than zero.")
    amount = editing.form(document.data, form)["fields"][1]
    assert amount["default"] == 250
    assert amount["validation"] == {"expression": "value > 0", "message": "More than zero."}

    # the third changes type: to a checkbox, then back to a date
    ui.get(QListWidget, f"forms.{form}.fields").setCurrentRow(2)
    kind = ui.get(QComboBox, f"forms.{form}.fields[2].type")
    kind.setCurrentIndex(kind.findData("checkbox"))
    kind.activated.emit(kind.currentIndex())
    assert editing.form(document.data, form)["fields"][2]["type"] == "checkbox"

    # reorder: the date-now-checkbox goes first
    qtbot.mouseClick(ui.get(QPushButton, f"forms.{form}.fieldUp"), Qt.MouseButton.LeftButton)
    names = [f["name"] for f in editing.form(document.data, form)["fields"]]
    assert names == ["risk", "date", "currency"]

    preview = ui.builder(form).preview
    assert preview is not None
    assert list(preview.editors) == ["risk", "date", "currency"]
    assert isinstance(preview.editors["date"].widget, QCheckBox)
    risk_editor = preview.editors["risk"].widget
    assert [risk_editor.itemText(i) for i in range(risk_editor.count())] == ["", "High", "Option 1"]
    assert risk_editor.currentText() == "Option 1", "the preview shows the default"
    problems = [p.message for p in inspect(document.data).problems if p.where.startswith("forms")]
    assert problems == []

    # all of it is undoable, one step per gesture
    while document.stack.canUndo():
        document.stack.undo()
    assert document.data == data


def test_the_orchestration_forms_list_builds_forms_too(qtbot: Any) -> None:
    document = DesignDocument(onboarding())
    ui = Builder(qtbot, document)
    forms = ui.get(QListWidget, "forms.list")
    forms.setCurrentRow(list(document.data["forms"]).index("review"))
    choose_field_type(qtbot, ui.builder("review"), "E-mail")
    fields = editing.form(document.data, "review")["fields"]
    assert fields[-1] == {"name": "email", "label": "Email", "type": "email"}
    assert "email" in ui.builder("review").preview.editors


def test_a_form_field_in_a_generic_list_keeps_its_type_and_can_change_it(qtbot: Any) -> None:
    """The bug behind "a field can never be given a type": lists wrote the model's name
    ('FormField') as the type of every entry they changed, and hid the type's editor."""
    from desktop_app.designer.entries import ListEditor
    from desktop_app.designer.fields import Context
    from engine.definitions.model import FormField

    reported: list[Any] = []
    editor = ListEditor(
        [{"name": "start", "type": "date"}],
        [FormField],
        lambda value, merge: reported.append(value),
        Context(data=lambda: {}, names=[]),
        "f",
    )
    qtbot.addWidget(editor)
    editor.show()
    type_into(qtbot, find(editor, QLineEdit, "f[0].label"), "Start on")
    assert reported[-1] == [{"name": "start", "type": "date", "label": "Start on"}]
    kind = find(editor, QComboBox, "f[0].type")
    assert kind.currentText() == "date"
    qtbot.mouseClick(find(editor, QPushButton, "f.Add"), Qt.MouseButton.LeftButton)
    added = reported[-1][-1]
    assert added.get("type", "text") in editing.FIELD_TYPES, added
