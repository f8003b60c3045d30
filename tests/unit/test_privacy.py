"""Masking, hashing and redaction of customer phone and ID numbers."""

from __future__ import annotations

import pytest

from server.privacy import (
    DEV_PEPPER,
    PEPPER_ENV,
    hash_contact,
    is_id_number,
    is_mobile,
    mask_id_number,
    mask_phone,
    normalize_contact,
    normalize_phone,
    redact_text,
)


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678",
     "008613812345678", "8613812345678"],
)  # fmt: skip
def test_phone_forms_normalise_mask_and_hash_alike(raw: str) -> None:
    assert normalize_phone(raw) == "13812345678"
    assert is_mobile(raw)
    assert mask_phone(raw) == "138****5678"
    assert hash_contact(raw) == hash_contact("13812345678")


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
    assert hash_contact("11010119900307123x") == hash_contact("11010119900307123X")


def test_hash_is_keyed_hex_and_does_not_contain_the_number() -> None:
    digest = hash_contact("13812345678")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert "13812345678" not in digest
    assert hash_contact("13812345678", key=b"chain-a") != hash_contact(
        "13812345678", key=b"chain-b"
    )
    assert hash_contact("13812345678", key=DEV_PEPPER.encode()) == digest
    assert hash_contact("13812345678") != hash_contact("13812345679")


def test_hash_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    default = hash_contact("13812345678")
    monkeypatch.setenv(PEPPER_ENV, "chain-pepper")
    assert hash_contact("13812345678") != default
    assert hash_contact("13812345678") == hash_contact("13812345678", key=b"chain-pepper")


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
    ],
)
def test_redact_text_masks_numbers_typed_into_free_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected
