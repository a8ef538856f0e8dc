"""Reading Salesforce XML safely, and translating its conditions and formulas."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.salesforce.expressions import (
    OPERATORS,
    Scope,
    StepRef,
    Untranslatable,
    combine,
    condition,
    formula,
    reference,
    template,
    text_value,
)
from engine.salesforce.xml import MAX_DEPTH, MAX_XML_BYTES, BadXml, parse_bytes, parse_file


def test_elements_keep_their_lines() -> None:
    root = parse_bytes(
        b"<?xml version='1.0'?>\n<Flow>\n  <label>A</label>\n  <x><y>1</y></x>\n</Flow>"
    )
    assert (root.tag, root.line) == ("Flow", 2)
    assert root.get("label") is not None and root.get("label").line == 3  # type: ignore[union-attr]
    assert root.path("x", "y") == "1"


def test_namespaces_are_dropped_from_tags() -> None:
    root = parse_bytes(b'<Flow xmlns="http://soap.sforce.com/2006/04/metadata"><a>1</a></Flow>')
    assert root.value("a") == "1"


def test_entity_expansion_is_refused_before_parsing() -> None:
    bomb = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'.encode() for i in range(1, 10)
        )
        + b"]>\n<Flow><label>&lol9;</label></Flow>"
    )
    began = time.perf_counter()
    with pytest.raises(BadXml) as caught:
        parse_bytes(bomb.replace(b"&lol0;", b"&lol;"))
    assert time.perf_counter() - began < 1
    assert caught.value.line == 2
    assert "declares a DTD or entities" in caught.value.message


def test_an_entity_sneaked_past_the_byte_check_is_refused_by_the_parser() -> None:
    # A DOCTYPE the pattern cannot see (UTF-16) still meets expat's handler.
    text = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>'
    with pytest.raises(BadXml) as caught:
        parse_bytes(text.encode("utf-16"))
    assert "DTD or entities" in caught.value.message


def test_huge_and_deep_files_are_refused(tmp_path: Path) -> None:
    huge = tmp_path / "Huge.flow"
    huge.write_bytes(b"<Flow>" + b" " * MAX_XML_BYTES + b"</Flow>")
    with pytest.raises(BadXml) as caught:
        parse_file(str(huge))
    assert "more than the" in caught.value.message
    deep = b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1)
    with pytest.raises(BadXml) as caught:
        parse_bytes(deep)
    assert f"nested more than {MAX_DEPTH} levels" in caught.value.message


def test_unreadable_paths_are_bad_xml(tmp_path: Path) -> None:
    with pytest.raises(BadXml) as caught:
        parse_file(str(tmp_path))
    assert "is a folder" in caught.value.message


# ---------------------------------------------------------------- references and conditions

SCOPE = Scope(
    steps={"Review": StepRef("intake.Review", {"decision": "intake.Review.outputs.decision"})},
    stages={"Intake": "intake"},
    variables={"amount": "vars.amount", "loan": "vars.loan"},
    constants={"Limit": "500"},
    formulas={"Double": "{!amount} * 2"},
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$Record.Amount__c", "record.Amount__c"),
        ("$Record.Id", "record.id"),
        ("$Record.OwnerId", "record.owner"),
        ("{!amount}", "vars.amount"),
        ("loan.Status__c", "vars.loan.Status__c"),
        ("Review.Status", "intake.Review.status"),
        ("Review.Outputs.decision", "intake.Review.outputs.decision"),
        ("Intake.Status", "intake.status"),
        ("Limit", "500"),
        ("Double", "(vars.amount * 2)"),
        ("$Flow.CurrentDateTime", "now()"),
    ],
)
def test_references(text: str, expected: str) -> None:
    assert reference(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Ghost.Status", "is not a step, stage, variable"),
        ("Review.Outputs.nope", "step 'Review' has no output 'nope' (its outputs: decision)"),
        ("$Record.Account.Name", "reads a related record"),
        ("$Record__Prior.Status__c", "only readable in the record trigger's criteria"),
        ("$User.Email", "the running user's fields"),
    ],
)
def test_references_that_cannot_be_carried_over(text: str, message: str) -> None:
    with pytest.raises(Untranslatable) as caught:
        reference(text, SCOPE)
    assert message in str(caught.value)


def _condition(left: str, operator: str, right: str | None, scope: Scope = SCOPE) -> str:
    xml = f"<c><leftValueReference>{left}</leftValueReference><operator>{operator}</operator>"
    if right is not None:
        xml += f"<rightValue>{right}</rightValue>"
    return condition(parse_bytes((xml + "</c>").encode()), scope)[0]


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("EqualTo", "vars.amount == 5"),
        ("NotEqualTo", "vars.amount != 5"),
        ("GreaterThan", "vars.amount > 5"),
        ("LessThan", "vars.amount < 5"),
        ("GreaterThanOrEqualTo", "vars.amount >= 5"),
        ("LessThanOrEqualTo", "vars.amount <= 5"),
        ("StartsWith", "starts_with(vars.amount, 5)"),
        ("EndsWith", "ends_with(vars.amount, 5)"),
        ("Contains", "contains(vars.amount, 5)"),
        ("In", "vars.amount in 5"),
        ("NotIn", "vars.amount not in 5"),
    ],
)
def test_every_operator_has_a_translation_and_a_reading(operator: str, expected: str) -> None:
    assert _condition("amount", operator, "<numberValue>5.0</numberValue>") == expected
    assert OPERATORS[operator][1]


def test_empty_values_changes_and_text() -> None:
    assert _condition("amount", "IsNull", "<booleanValue>true</booleanValue>") == (
        "is_blank(vars.amount)"
    )
    assert _condition("amount", "IsNull", "<booleanValue>false</booleanValue>") == (
        "not is_blank(vars.amount)"
    )
    assert _condition("amount", "EqualTo", None) == "is_blank(vars.amount)"
    trigger = Scope(old=True)
    assert (
        _condition("$Record.Status__c", "IsChanged", "<booleanValue>true</booleanValue>", trigger)
        == "old is not None and record.Status__c != old.Status__c"
    )
    with pytest.raises(Untranslatable, match="IsChanged is only carried over"):
        _condition("amount", "IsChanged", "<booleanValue>true</booleanValue>")
    assert _condition("amount", "EqualTo", "<stringValue>it's {!amount}</stringValue>") == (
        "vars.amount == 'it\\'s ' + text(vars.amount)"
    )
    assert text_value("{!amount}", SCOPE) == "vars.amount"
    assert template("Pay {!amount} by {!$Flow.CurrentDate}", SCOPE) == (
        "Pay {{ vars.amount }} by {{ today() }}"
    )


@pytest.mark.parametrize(
    ("logic", "expected"),
    [
        (None, "a and b and c"),
        ("or", "a or b or c"),
        ("1 AND (2 OR 3)", "(a) and ((b) or (c))"),
        ("(1 OR 2) AND NOT 3", "((a) or (b)) and not (c)"),
    ],
)
def test_condition_logic(logic: str | None, expected: str) -> None:
    assert combine(["a", "b", "c"], logic) == expected


@pytest.mark.parametrize(
    ("logic", "message"),
    [
        ("1 AND 4", "names condition 4, but there are 3"),
        ("1 AND (2 OR 3", "unmatched '('"),
        ("1 XOR 2", "cannot be read at 'XOR 2'"),
        ("1 AND", "is not well formed"),
    ],
)
def test_bad_condition_logic(logic: str, message: str) -> None:
    with pytest.raises(Untranslatable) as caught:
        combine(["a", "b", "c"], logic)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{!amount} > 0", "vars.amount > 0"),
        ("AND({!amount} > 0, {!amount} <> 7)", "((vars.amount > 0) and (vars.amount != 7))"),
        (
            "OR(ISBLANK({!amount}), NOT({!amount} = 1))",
            "((is_blank(vars.amount)) or (not (vars.amount == 1)))",
        ),
        ('ISPICKVAL({!loan.Status__c}, "Open")', "(vars.loan.Status__c == 'Open')"),
        ("IF({!amount} > 10, 'big', 'small')", "('big' if vars.amount > 10 else 'small')"),
        ('"No. " & TEXT({!amount})', "text('No. ') + text(text(vars.amount))"),
        ("LEN({!amount}) >= 3 && TRUE", "len(vars.amount) >= 3 and True"),
        ("TODAY()", "today()"),
    ],
)
def test_formulas(text: str, expected: str) -> None:
    assert formula(text, SCOPE) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("REGEX({!amount}, 'x')", "REGEX() has no Baton counterpart"),
        ("{!amount} >", "ends too early"),
        ("AND({!amount} > 1", "ends too early"),
        ("{!amount} ~ 1", "cannot be read at '~ 1'"),
    ],
)
def test_formulas_that_cannot_be_translated(text: str, message: str) -> None:
    with pytest.raises(Untranslatable) as caught:
        formula(text, SCOPE)
    assert message in str(caught.value)
