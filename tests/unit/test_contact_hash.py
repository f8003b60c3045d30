"""Phone tokens: keyed, slow, the same across the chain, and upgraded from the old HMACs."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from server.contact_hash import (
    DEFAULT_ITERATIONS,
    DEFAULT_MEMORY_KIB,
    ContactHasher,
    ContactKeyError,
    is_legacy_hash,
    read_key,
    write_key,
)
from tests.contact import CONTACT_HASHER


def test_token_is_keyed_and_never_holds_the_number() -> None:
    token = CONTACT_HASHER.token("13812345678")
    assert token.startswith("v2:") and len(token) <= 64
    assert "13812345678" not in token and not is_legacy_hash(token)
    other = ContactHasher.cheap(b"another-chain-key-0123")
    assert other.token("13812345678") != token
    assert CONTACT_HASHER.token("13812345679") != token


def test_the_production_cost_is_the_default() -> None:
    """What the cost arithmetic of ``server.contact_hash`` assumes: Argon2id at 64 MiB, t=10."""
    key = ContactHasher.generate()
    assert (key.memory_kib, key.iterations) == (DEFAULT_MEMORY_KIB, DEFAULT_ITERATIONS)
    assert (DEFAULT_MEMORY_KIB, DEFAULT_ITERATIONS) == (64 * 1024, 10)
    bare = ContactHasher.parse("a-bare-pepper-of-earlier-releases")
    assert (bare.memory_kib, bare.iterations) == (64 * 1024, 10)


def test_spec_round_trips_and_bad_specs_are_refused() -> None:
    assert ContactHasher.parse(CONTACT_HASHER.spec) == CONTACT_HASHER
    with pytest.raises(ContactKeyError, match="16 bytes"):
        ContactHasher.parse("short")
    with pytest.raises(ContactKeyError):
        ContactHasher.parse("hc2$argon2id$m=1,t=1$abc")
    with pytest.raises(ContactKeyError, match="out of range"):
        ContactHasher.parse("hc2$argon2id$m=99999999,t=1$" + "A" * 22)


def test_upgrading_an_old_hmac_gives_the_token_of_the_same_number() -> None:
    """A customer recorded by an earlier release (HMAC-SHA256 hex, same pepper) still matches
    a number typed today."""
    legacy = hmac.new(CONTACT_HASHER.pepper, b"13812345678", hashlib.sha256).hexdigest()
    assert is_legacy_hash(legacy)
    assert CONTACT_HASHER.upgrade_legacy(legacy) == CONTACT_HASHER.token("+86 138-1234-5678")


def test_key_file_is_owner_only_and_never_overwritten(tmp_path) -> None:  # type: ignore[no-untyped-def]
    write_key(tmp_path, CONTACT_HASHER)
    path = tmp_path / "contact.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_key(tmp_path) == CONTACT_HASHER
    with pytest.raises(FileExistsError):
        write_key(tmp_path, ContactHasher.generate())
    assert read_key(tmp_path / "nowhere") is None
