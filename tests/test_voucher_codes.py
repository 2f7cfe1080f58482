"""Voucher codes: unguessable, human-friendly, and a typo is reported as a typo."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vouchers.codes import ALPHABET, MalformedCode, generate_code, normalise_code


def test_generated_codes_have_the_format_and_validate() -> None:
    codes = {generate_code() for _ in range(5000)}
    assert len(codes) == 5000
    for code in list(codes)[:200]:
        assert len(code) == 19 and code.count("-") == 3
        assert normalise_code(code) == code
        assert not set(code.replace("-", "")) & set("01OI")


def test_lower_case_and_spaces_are_accepted() -> None:
    code = generate_code()
    assert normalise_code(" " + code.lower().replace("-", " ") + " ") == code


@given(st.data())
def test_every_single_character_typo_is_caught(data: st.DataObject) -> None:
    code = generate_code().replace("-", "")
    position = data.draw(st.integers(0, len(code) - 1))
    replacement = data.draw(st.sampled_from([c for c in ALPHABET if c != code[position]]))
    typo = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(MalformedCode, match="mistyped"):
        normalise_code(typo)


@pytest.mark.parametrize(
    ("text", "message"),
    [("ABC", "16 characters"), ("0000-1111-OOOO-IIII", "never contains"), ("", "16 characters")],
)
def test_malformed_codes_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(MalformedCode, match=message):
        normalise_code(text)
