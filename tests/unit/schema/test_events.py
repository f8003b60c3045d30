"""Decoding events: only msgspec errors come out of bad bytes, whatever they hold."""

from __future__ import annotations

import msgspec
import pytest

from schema.events import decode


@pytest.mark.parametrize(
    "data",
    [b"", b"\xc1", b"\x81\xa4type\xa2\xff\xfe", msgspec.msgpack.encode({"type": "no.such"})],
)
def test_bad_bytes_raise_a_decode_error(data: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        decode(data)
