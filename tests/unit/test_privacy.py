"""Masking, hashing and redaction of customer phone and ID numbers."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from server.privacy import (
    is_id_number,
    is_mobile,
    mask_id_number,
    mask_phone,
    normalize_contact,
    normalize_phone,
    redact_text,
)
from tests.contact import CONTACT_HASHER as KEY
from tests.pii import Number, id_numbers, in_text, mobiles, numbers, raw_in


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678",
     "008613812345678", "8613812345678"],
)  # fmt: skip
def test_phone_forms_normalise_mask_and_hash_alike(raw: str) -> None:
    assert normalize_phone(raw) == "13812345678"
    assert is_mobile(raw)
    assert mask_phone(raw) == "***********"
    assert KEY.token(raw) == KEY.token("13812345678")


@pytest.mark.parametrize(
    "raw", ["12812345678", "1381234567", "138123456789", "23812345678", "abc", "", "+1 1381234567"]
)
def test_not_a_mainland_mobile(raw: str) -> None:
    assert not is_mobile(raw)


def test_mask_never_shows_a_short_number() -> None:
    assert mask_phone("12345") == "*****"
    assert "1234" not in mask_phone("1234567")


def test_id_number_mask_keeps_first_six_and_last_four() -> None:
    assert mask_id_number("11010119900307123x") == "110101********123X"
    assert mask_id_number("110101 19900307 1234") == "110101********1234"
    assert is_id_number("11010119900307123x")
    assert not is_id_number("1101011990030712")
    assert mask_id_number("123") == "***"


def test_id_number_hash_ignores_case_of_check_character() -> None:
    assert normalize_contact("11010119900307123x") == "11010119900307123X"
    assert KEY.token("11010119900307123x") == KEY.token("11010119900307123X")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("客户电话13812345678，态度差", "客户电话***********，态度差"),
        ("call +86 138 1234 5678 back", "call *********** back"),
        ("tel:8613812345678.", "tel:***********."),
        ("身份证11010119900307123x丢失", "身份证110101********123X丢失"),
        ("IMEI 861234567890123 is fine", "IMEI 861234567890123 is fine"),
        ("order 2026112613812345678", "order 2026112613812345678"),
        ("no numbers here", "no numbers here"),
        ("电话１３８ １２３４ ５６７８", "电话***********"),
        ("phone 1 3 8 1 2 3 4 5 6 7 8!", "phone ***********!"),
        ("138 12 34 56 78", "***********"),
        ("138.1234.5678", "***********"),
    ],
)
def test_redact_text_masks_numbers_typed_into_free_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("139_8765_4325", "***********"),
        ("139/8765/4326", "***********"),
        ("139—8765—4327", "***********"),
        ("139–8765–4328", "***********"),
        ("139－8765－4320", "***********"),
        ("(139)87654329", "***********"),
        ("电话（139）8765 4329。", "电话***********。"),
        ("+86 (139) 8765-4321", "***********"),
        ("（+86）13987654321", "***********"),
        ("0086-139-8765-4321", "***********"),
        ("139\u30008765\u00a04321", "***********"),
        ("１３９\u3000８７６５\u3000４３２１，全角保留：ＡＢＣ", "***********，全角保留：ＡＢＣ"),
        ("139 - 8765 - 4321", "***********"),
        ("13987654321x", "***********x"),
        ("110101 19900307 1235", "110101********1235"),
        ("110101-1990-0307-123x", "110101********123X"),
        ("１１０１０１１９９００３０７１２３Ｘ", "110101********123X"),
        ("身份证 110101/19900307/1235 已核", "身份证 110101********1235 已核"),
    ],
)
def test_redact_text_masks_numbers_in_every_usual_format(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "IMEI 861234567890123 is fine",
        "ICCID 89860012345678901234，19位 8986001234567890123",
        "SN 35-209900-176148-1",
        "2026-12-03 13:45 到店，金额¥1380.00，共 13 台",
        "2026.12.03—2026.12.31 活动",
        "调拨单 TR-S001-1A2B3C4D，入库单 DO-20261126",
        "订单 202611261234567890 与 2026112613812345678",
        "工号 13812 1380 2026",
        "masked already: *********** and 110101********1235",
    ],
)
def test_redact_text_leaves_identifiers_dates_and_amounts_alone(text: str) -> None:
    assert redact_text(text) == text


@settings(max_examples=200, deadline=None)
@given(st.lists(numbers(), min_size=1, max_size=3).flatmap(
    lambda ns: st.tuples(st.just(ns), st.tuples(*(in_text(n) for n in ns)))
))  # fmt: skip
@example(([Number("13987654325", "139_8765_4325")], ("139_8765_4325",)))
@example(([Number("110101199003071235", "110101 19900307 1235")], ("110101 19900307 1235",)))
def test_no_number_stays_raw_in_redacted_text(case: tuple[list[Number], tuple[str, ...]]) -> None:
    found, sentences = case
    text = " ".join(sentences)
    redacted = redact_text(text)
    assert raw_in(redacted, [n.canonical for n in found]) == [], redacted
    assert redact_text(redacted) == redacted  # idempotent: a masked text is left as it is


@settings(max_examples=100, deadline=None)
@given(st.one_of(mobiles(), id_numbers()))
def test_the_masked_form_is_the_fields_masked_form(number: Number) -> None:
    """A number masked in a note reads the same as in a phone or ID field."""
    redacted = redact_text(number.written)
    if len(number.canonical) == 11:
        assert redacted == mask_phone(number.canonical)
    else:
        assert redacted == mask_id_number(number.canonical)
