"""Customer numbers as staff type them, for property tests: mainland mobile and ID numbers,
rendered in the many ways people write them, and a detector that finds one left raw in any
text, however it was written.

The detector is deliberately independent of ``server.privacy``: it folds full-width digits to
ASCII (NFKC), drops the characters people put between digits (every separator this module
writes numbers with, brackets, ``+``, spaces) and looks for the number's characters in a row.
A masked number keeps its ``*`` and so is never found; a raw one is found whatever separators,
brackets or spaces stand between its digits.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import msgspec
from hypothesis import strategies as st

SEPARATORS = [
    " ", "-", "_", "/", ".", "\\", "—", "–", "－", "‐", "‑", "−", "ー", "·", "\u3000", "\u00a0",
    "\u2009", " - ", " / ", "．", "／",
]  # fmt: skip
"""What people put between digit groups: spaces of every width, dashes of every kind, slashes,
dots (ASCII and full-width)."""

PHONE_PREFIXES = [
    "", "", "", "+86", "+86 ", "+86-", "0086", "0086 ", "86", "86-", "(+86)", "（+86）", "(86) ",
    "＋86 ", "(0086)",
]  # fmt: skip
PHONE_GROUPINGS = [(11,), (3, 4, 4), (3, 8), (3, 3, 5), (4, 3, 4), (1,) * 11, (3, 2, 2, 2, 2)]
ID_GROUPINGS = [(18,), (6, 8, 4), (6, 4, 4, 4), (3, 3, 4, 4, 4), (6, 4, 2, 2, 4), (4, 4, 4, 4, 2)]

# Text around a number: words, punctuation and other figures staff write next to it.
BEFORE = [
    "", "客户", "电话", "联系人张先生 ", "tel:", "call ", "身份证号", "于2026-12-03 14:30 ",
    "¥1380.00，",
]  # fmt: skip
AFTER = ["", "，", "。", " 回访", "说蓝屏", " 共2次", "x", "；IMEI 861234567890123", "!"]


@dataclass(frozen=True)
class Number:
    """A customer number: its canonical characters and one way it was written."""

    canonical: str
    """11 digits of a mobile number, or the 18 characters of an ID number (``X`` upper)."""
    written: str


def _mobile_digits() -> st.SearchStrategy[str]:
    return st.builds(
        lambda second, rest: f"1{second}{rest:09d}",
        st.integers(3, 9),
        st.integers(0, 10**9 - 1),
    )


def _id_chars() -> st.SearchStrategy[str]:
    return st.builds(
        lambda region, born, order, check: f"{region}{born:%Y%m%d}{order:03d}{check}",
        st.integers(110000, 659999),
        st.dates(date(1920, 1, 1), date(2025, 12, 31)),
        st.integers(0, 999),
        st.sampled_from("0123456789X"),
    )


def _grouped(
    draw: st.DrawFn, chars: str, groupings: list[tuple[int, ...]], bracket_first: bool
) -> str:
    sizes = draw(st.sampled_from(groupings))
    parts, at = [], 0
    for size in sizes:
        parts.append(chars[at : at + size])
        at += size
    assert at == len(chars)
    if bracket_first and len(parts) > 1 and draw(st.booleans()):
        opening, closing = draw(st.sampled_from([("(", ")"), ("（", "）"), ("[", "]")]))
        parts[0] = f"{opening}{parts[0]}{closing}"
        text = parts[0] + draw(st.sampled_from(["", " "])) + parts[1]
        rest = parts[2:]
    else:
        text, rest = parts[0], parts[1:]
    for part in rest:
        text += draw(st.sampled_from(SEPARATORS)) + part
    return text


def _full_width(draw: st.DrawFn, text: str) -> str:
    """Some, all or none of the digits (and the check ``X``) typed full-width."""
    mode = draw(st.sampled_from(["none", "none", "all", "some"]))
    if mode == "none":
        return text
    out = []
    for c in text:
        wide = "0" <= c <= "9" or c in "Xx"
        if wide and (mode == "all" or draw(st.booleans())):
            out.append(chr(ord(c) + 0xFEE0))
        else:
            out.append(c)
    return "".join(out)


@st.composite
def mobiles(draw: st.DrawFn) -> Number:
    """A mainland mobile number, written with a prefix, separators, brackets, full width."""
    digits = draw(_mobile_digits())
    written = draw(st.sampled_from(PHONE_PREFIXES)) + _grouped(
        draw, digits, PHONE_GROUPINGS, bracket_first=True
    )
    return Number(digits, _full_width(draw, written))


@st.composite
def id_numbers(draw: st.DrawFn) -> Number:
    """An 18-character resident ID number in groups, its check ``X`` in either case."""
    chars = draw(_id_chars())
    written = _grouped(draw, chars, ID_GROUPINGS, bracket_first=False)
    if written.endswith("X") and draw(st.booleans()):
        written = written[:-1] + "x"
    return Number(chars, _full_width(draw, written))


def numbers() -> st.SearchStrategy[Number]:
    return st.one_of(mobiles(), id_numbers())


@st.composite
def in_text(draw: st.DrawFn, number: Number) -> str:
    """``number`` written inside a sentence."""
    return draw(st.sampled_from(BEFORE)) + number.written + draw(st.sampled_from(AFTER))


_JOINERS = frozenset(
    unicodedata.normalize("NFKC", "".join(SEPARATORS) + "()（）[]［］【】〔〕+＋") + " "
)


def squeeze(text: str) -> str:
    """The text as the detector reads it: full width folded (NFKC), upper case, everything
    that may stand between the digits of a written number dropped (spaces, dashes, slashes,
    dots, brackets, ``+``), and every other character (a letter, ``:``, ``，``, ``*``, binary)
    kept as a break, so the digits of a date and a time are not taken for one number."""
    out = []
    for c in unicodedata.normalize("NFKC", text).upper():
        if "0" <= c <= "9" or c == "X":
            out.append(c)
        elif c.isspace() or c in _JOINERS:
            continue
        else:
            out.append("|")
    return "".join(out)


def raw_in(text: str, canonicals: Iterable[str]) -> list[str]:
    """The numbers among ``canonicals`` that appear raw in ``text``, in any format."""
    squeezed = squeeze(text)
    return [c for c in canonicals if c in squeezed]


def strings_in(value: Any) -> Iterator[str]:
    """Every string inside a value read from an API answer or a database cell: JSON text and
    msgpack bodies are decoded and walked (an escaped ``\\u2014`` would hide a separator)."""
    if isinstance(value, str):
        yield value
        if value[:1] in "[{":
            try:
                parsed = json.loads(value)
            except ValueError:
                return
            yield from strings_in(parsed)
    elif isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        try:
            yield from strings_in(msgspec.msgpack.decode(data))
        except msgspec.DecodeError:
            yield data.decode("utf-8", "replace")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings_in(k)
            yield from strings_in(v)
    elif isinstance(value, list | tuple | set):
        for v in value:
            yield from strings_in(v)
    elif isinstance(value, date | timedelta | int | float | bool) or value is None:
        return
    else:
        yield str(value)
