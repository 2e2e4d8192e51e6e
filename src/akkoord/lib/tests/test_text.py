"""The shared text rules: control characters and spreadsheet formulas."""

from hypothesis import given
from hypothesis import strategies as st

from akkoord.lib.text import (
    has_control_characters,
    spreadsheet_safe,
    without_control_characters,
)

# What a spreadsheet (Excel, LibreOffice, Google Sheets) reads as the start of a formula.
FORMULA_CHARACTERS = "=+-@\t\r"


@given(st.text())
def test_a_safe_cell_never_starts_a_formula_and_keeps_the_text(text):
    cell = spreadsheet_safe(text)
    assert not cell.startswith(tuple(FORMULA_CHARACTERS))
    assert cell in (text, "'" + text)


@given(st.text())
def test_control_characters_are_removed_and_then_absent(text):
    cleaned = without_control_characters(text)
    assert not has_control_characters(cleaned)
    assert all(ch in text for ch in cleaned)


def test_free_text_may_have_tabs_and_line_breaks_but_no_other_control_characters():
    assert has_control_characters("Anna\nJansen")
    assert not has_control_characters("regel een\nregel\ttwee", free_text=True)
    assert has_control_characters("nul\x00", free_text=True)
    assert has_control_characters("bel\x07", free_text=True)
    assert not has_control_characters("Zoë Ørsted — café")
