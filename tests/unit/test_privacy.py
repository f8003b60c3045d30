"""Masking, hashing and redaction of customer phone and ID numbers."""

from __future__ import annotations

import pytest

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
