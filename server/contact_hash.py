"""Matching tokens of customer phone numbers: slow, keyed, and the same across the chain.

A phone number has little entropy: the whole mainland numbering plan (``1[3-9]`` and nine
digits) is 7×10⁹ numbers, and a fast hash of one, even keyed, falls to a search of that space
once the key is found beside it. So a customer's number is kept only as a **token**:

    token(n) = Argon2id(password = HMAC-SHA256(pepper, normalise(n)),
                        salt = SHA-256("hallsync contact salt" ‖ pepper)[:16],
                        t, m, p = 1, 32 bytes)                      → "v2:" + base64url

and its display form reveals no digit at all (``server.privacy.mask_phone``), because every
digit shown divides the search by ten (with 7 digits shown, as before, no hash can be slow
enough: 10⁴ candidates).

**What recovering one number costs** an attacker holding everything a node or central stores
(database files, synced event bodies, this key file and its pepper): with nothing shown, every
candidate costs one Argon2id evaluation at 64 MiB and t = 10 (0.50 s of CPU time, median of 7,
on the development machine: AMD EPYC, CPython 3.11, argon2-cffi; memory-hard, so GPUs and ASICs
gain little), and one CPU-year is 3.16×10⁷ CPU-seconds:

- over the numbering plan (7×10⁹; about 5×10⁹ in allocated prefixes): 5×10⁹ × 0.50 s / 2 (the
  expected half of the search) = 1.25×10⁹ CPU-seconds ≈ **40 CPU-years** (80 for all of it);
- if the attacker assumes the customer is local and searches only a large city's allocated
  blocks (about 1.5×10⁸ numbers): 3.8×10⁷ CPU-seconds ≈ **1.2 CPU-years** on average, 2.4 for
  the whole block: the weakest case, and what sets t (t = 3 gave 0.19 s, 0.45 CPU-years);
- without the pepper (a copied database, a backup, a dump of central, a synced event body: the
  usual ways data leaks): the HMAC key is 256 random bits, so no search is possible at all. The
  pepper therefore lives in a key file beside the database, never in it (``KEY_FILE``, 0600).

Before this, the display form showed 7 of 11 digits and the hash was a bare HMAC whose key sat in
the database: 10⁴ HMACs, 0.01 s. Stored tokens of that kind (64 hex digits) are upgraded in
place, because the new token is computed *from* the old HMAC: ``upgrade_legacy``.

The cost parameters are part of the chain's key (every node must compute the same token for the
same number), so they travel with the pepper as one ``spec`` string; tests and benchmarks use a
cheap spec made explicitly with ``ContactHasher.cheap``, never a default.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw

from server.datadir import write_private_file
from server.hashing import shared_pool
from server.privacy import normalize_contact

KEY_FILE = "contact.key"
"""The chain's contact key spec, in the data directory of a node or central, mode 0600."""

TOKEN_PREFIX = "v2:"
MIN_PEPPER_BYTES = 16
DEFAULT_MEMORY_KIB = 64 * 1024
DEFAULT_ITERATIONS = 10
_SPEC = re.compile(r"hc2\$argon2id\$m=(\d+),t=(\d+)\$([A-Za-z0-9_-]+)\Z")
_LEGACY_HASH = re.compile(r"[0-9a-f]{64}\Z")
# Bounds that keep a hostile or mistyped spec from exhausting a node (or being trivially weak).
_MEMORY_KIB = (8, 4 * 1024 * 1024)
_ITERATIONS = (1, 64)


class ContactKeyError(ValueError):
    """A contact key spec that cannot be used; the message says why, never the key."""


@dataclass(frozen=True)
class ContactHasher:
    """The chain's pepper and cost; turns a phone number into its matching token."""

    pepper: bytes
    memory_kib: int = DEFAULT_MEMORY_KIB
    iterations: int = DEFAULT_ITERATIONS

    def __post_init__(self) -> None:
        if len(self.pepper) < MIN_PEPPER_BYTES:
            raise ContactKeyError(f"the contact key needs at least {MIN_PEPPER_BYTES} bytes")
        if not _MEMORY_KIB[0] <= self.memory_kib <= _MEMORY_KIB[1]:
            raise ContactKeyError("contact key: memory cost out of range")
        if not _ITERATIONS[0] <= self.iterations <= _ITERATIONS[1]:
            raise ContactKeyError("contact key: iteration count out of range")

    # ------------------------------------------------------------ making and reading specs

    @classmethod
    def generate(cls) -> ContactHasher:
        """A new chain key at the production cost."""
        return cls(secrets.token_bytes(32))

    @classmethod
    def cheap(cls, pepper: bytes) -> ContactHasher:
        """A key at the lowest cost, for tests and benchmarks only: tokens made with it do not
        match those of any production key, and resist no search."""
        return cls(pepper, memory_kib=_MEMORY_KIB[0], iterations=1)

    @classmethod
    def parse(cls, text: str) -> ContactHasher:
        """Read a spec (``hc2$argon2id$m=…,t=…$<pepper>``), or a pepper given as plain text
        (the ``HALLSYNC_CONTACT_KEY`` form of earlier releases), which gets the default cost."""
        text = text.strip()
        m = _SPEC.match(text)
        if m is None:
            if text.startswith("hc2$"):
                raise ContactKeyError("contact key: unreadable spec")
            return cls(text.encode())
        try:
            pepper = base64.urlsafe_b64decode(m.group(3) + "=" * (-len(m.group(3)) % 4))
        except ValueError as exc:
            raise ContactKeyError("contact key: unreadable pepper") from exc
        return cls(pepper, memory_kib=int(m.group(1)), iterations=int(m.group(2)))

    @property
    def spec(self) -> str:
        pepper = base64.urlsafe_b64encode(self.pepper).rstrip(b"=").decode()
        return f"hc2$argon2id$m={self.memory_kib},t={self.iterations}${pepper}"

    # ------------------------------------------------------------ tokens

    def token(self, value: str) -> str:
        """The matching token of a phone (or ID) number; slow by design (see the module)."""
        mac = hmac.new(self.pepper, normalize_contact(value).encode(), "sha256")
        return self._stretch_digest(mac.digest())

    def upgrade_legacy(self, legacy_hex: str) -> str:
        """The token of the number whose old HMAC-SHA256 hex (same pepper) is ``legacy_hex``."""
        return self._stretch_digest(bytes.fromhex(legacy_hex))

    async def token_async(self, value: str) -> str:
        """``token`` off the event loop, in the process's pool of memory-hard work shared with
        password checks (``server.hashing``): bounded memory, 429 ``busy`` when it is full."""
        return await shared_pool().run(self.token, value)

    def _stretch_digest(self, digest: bytes) -> str:
        salt = hashlib.sha256(b"hallsync contact salt" + self.pepper).digest()[:16]
        raw = hash_secret_raw(
            digest,
            salt,
            time_cost=self.iterations,
            memory_cost=self.memory_kib,
            parallelism=1,
            hash_len=32,
            type=Type.ID,
        )
        return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def is_legacy_hash(value: str) -> bool:
    """Whether ``value`` is a matching hash of the earlier kind (bare HMAC-SHA256 hex)."""
    return _LEGACY_HASH.match(value) is not None


# ------------------------------------------------------------ the key file


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def write_key(data_dir: Path, hasher: ContactHasher) -> None:
    """Write the key file, readable by the owner only from its first byte; refuses to replace
    one (a node whose key changed could no longer match its customers)."""
    path = key_path(data_dir)
    if path.exists():
        raise FileExistsError(path)
    write_private_file(path, hasher.spec + "\n")


def replace_key(data_dir: Path, hasher: ContactHasher, *, keep_as: str) -> Path:
    """Make ``hasher`` the data directory's key, keeping the one it replaces beside it as
    ``contact.key.<keep_as>`` (tokens recorded under it can be matched only with it). The
    swap is atomic: at every instant the key file holds the old key or the new one."""
    path = key_path(data_dir)
    kept = path.with_name(f"{path.name}.{keep_as}")
    if kept.exists():
        raise FileExistsError(kept)
    os.link(path, kept)
    fresh = path.with_name(f"{path.name}.new")
    write_private_file(fresh, hasher.spec + "\n")
    os.replace(fresh, path)
    return kept


def read_key(data_dir: Path) -> ContactHasher | None:
    """The key in the data directory's key file, or None if there is none."""
    path = key_path(data_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return ContactHasher.parse(text)
