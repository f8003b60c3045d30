"""Masking, hashing and redaction of customer phone and ID numbers."""

from __future__ import annotations

import pytest

from server.privacy import (
    hash_contact,
    is_id_number,
    is_mobile,
    mask_id_number,
    mask_phone,
    normalize_contact,
    normalize_phone,
    redact_text,
)

KEY = b"test-contact-key-0123456789"


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678",
     "008613812345678", "8613812345678"],
)  # fmt: skip
def test_phone_forms_normalise_mask_and_hash_alike(raw: str) -> None:
    assert normalize_phone(raw) == "13812345678"
    assert is_mobile(raw)
    assert mask_phone(raw) == "138****5678"
    assert hash_contact(raw, KEY) == hash_contact("13812345678", KEY)


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
    assert hash_contact("11010119900307123x", KEY) == hash_contact("11010119900307123X", KEY)


def test_hash_is_keyed_hex_and_does_not_contain_the_number() -> None:
    digest = hash_contact("13812345678", KEY)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert "13812345678" not in digest
    assert hash_contact("13812345678", b"chain-a-key-0123456") != hash_contact(
        "13812345678", b"chain-b-key-0123456"
    )
    assert hash_contact("13812345678", KEY) != hash_contact("13812345679", KEY)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        hash_contact("13812345678", b"short")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("客户电话13812345678，态度差", "客户电话138****5678，态度差"),
        ("call +86 138 1234 5678 back", "call 138****5678 back"),
        ("tel:8613812345678.", "tel:138****5678."),
        ("身份证11010119900307123x丢失", "身份证110101********123X丢失"),
        ("IMEI 861234567890123 is fine", "IMEI 861234567890123 is fine"),
        ("order 2026112613812345678", "order 2026112613812345678"),
        ("no numbers here", "no numbers here"),
        ("电话１３８ １２３４ ５６７８", "电话138****5678"),
        ("phone 1 3 8 1 2 3 4 5 6 7 8!", "phone 138****5678!"),
        ("138 12 34 56 78", "138****5678"),
        ("138.1234.5678", "138****5678"),
    ],
)
def test_redact_text_masks_numbers_typed_into_free_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected
