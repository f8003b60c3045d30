"""The chain contact key the tests use: real Argon2id at the lowest cost, so a phone number's
token takes microseconds instead of a third of a second (``server.contact_hash``)."""

import functools
import tempfile
from pathlib import Path

from server.contact_hash import ContactHasher, write_key

CONTACT_HASHER = ContactHasher.cheap(b"chain-contact-key-0123456789")
CONTACT_KEY = CONTACT_HASHER.spec


@functools.cache
def key_dir() -> Path:
    """A directory holding ``contact.key`` with ``CONTACT_KEY``: the data directory the tests'
    centrals read their contact key from (made once per test session)."""
    d = Path(tempfile.mkdtemp(prefix="hallsync-test-key-"))
    write_key(d, CONTACT_HASHER)
    return d
