"""What to answer to a request for a content-addressed file: 200, 206, 304, 412 or 416.

Pure (headers in, a :class:`Delivery` out), so the web layer only does I/O.
It implements RFC 9110 for a representation that never changes under its URL
and whose strong entity tag is its SHA-256:

- conditionals are evaluated in the order of section 13.2.2 (If-Match,
  If-None-Match, If-Range; the date forms are moot without Last-Modified);
- Range (section 14) is honoured for GET only, for one range; several ranges
  or a malformed header are ignored (a full 200), which 14.2 allows, rather
  than answered with multipart bodies no scene loader asks for.

aiohttp's ``FileResponse`` is not used because its entity tag is made of
mtime and size and cannot be replaced by the content hash, its If-Range only
compares dates, it answers several ranges with 416, serves ``bytes=-0`` as the
whole file and would send a ``scene.glb.gz`` lying next to the file instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

_QUOTED_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')
# Up to 19 digits fits any real file size and keeps int() cheap on hostile input.
_RANGE = re.compile(r"([0-9]{1,19})?-([0-9]{1,19})?")


@dataclass(frozen=True, slots=True)
class Delivery:
    """The answer: status, and for 200/206 which bytes of the ``size`` go into the body."""

    status: int
    size: int
    start: int = 0
    length: int = 0

    @property
    def content_range(self) -> str | None:
        """The Content-Range value for this answer, when it needs one (14.4)."""
        if self.status == 206:
            return f"bytes {self.start}-{self.end}/{self.size}"
        if self.status == 416:
            return f"bytes */{self.size}"
        return None

    @property
    def end(self) -> int:
        """The last byte sent (inclusive, as in Content-Range)."""
        return self.start + self.length - 1


UNSATISFIABLE: Final = "unsatisfiable"
Unsatisfiable = Literal["unsatisfiable"]


def plan_delivery(
    *,
    method: str,
    size: int,
    etag: str,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_range: str | None = None,
    range_header: str | None = None,
) -> Delivery:
    """Decide the answer for a file of ``size`` bytes whose strong tag is ``etag`` (unquoted)."""
    # 13.1.1: If-Match uses the strong comparison; a strong tag always compares equal here.
    if if_match is not None and not etag_matches(if_match, etag, weak=False):
        return Delivery(412, size)
    # 13.1.2: If-None-Match uses the weak comparison; GET and HEAD get 304.
    if if_none_match is not None and etag_matches(if_none_match, etag, weak=True):
        return Delivery(304, size)
    full = Delivery(200, size, 0, size)
    if method != "GET" or range_header is None:
        return full
    # 13.1.5: If-Range needs a strong match of the exact tag, else send it all.
    if if_range is not None and if_range.strip() != f'"{etag}"':
        return full
    byte_range = parse_range(range_header, size)
    if byte_range is None:
        return full
    if isinstance(byte_range, str):
        return Delivery(416, size)
    start, end = byte_range
    return Delivery(206, size, start, end - start)


def etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    """Whether an If-Match / If-None-Match list names ``etag`` (or is ``*``)."""
    header = header.strip()
    if header == "*":
        return True
    pos = 0
    while pos < len(header):
        found = _QUOTED_TAG.match(header, pos)
        if found is None:
            return False  # malformed list: nothing after this point can be trusted
        is_weak, value = found.group(1) is not None, found.group(2)
        if value == etag and (weak or not is_weak):
            return True
        pos = found.end()
    return False


def parse_range(header: str, size: int) -> tuple[int, int] | Unsatisfiable | None:
    """Parse a Range header against ``size`` bytes.

    Returns ``(start, end)`` with ``end`` exclusive, :data:`UNSATISFIABLE`, or
    ``None`` when the header is to be ignored (not bytes, malformed, or more
    than one range).
    """
    unit, sep, ranges = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None  # 14.2: ignore units we do not understand
    specs = [spec.strip() for spec in ranges.split(",") if spec.strip()]
    if len(specs) != 1:
        return None
    found = _RANGE.fullmatch(specs[0])
    if found is None:
        return None
    first, last = found.group(1), found.group(2)
    if first is None and last is None:
        return None  # a bare "-"
    if first is None:
        # 14.1.2: a suffix range; "-0" selects nothing and cannot be satisfied.
        suffix = int(last)
        if suffix == 0 or size == 0:
            return UNSATISFIABLE
        return max(size - suffix, 0), size
    start = int(first)
    if last is not None and int(last) < start:
        return None  # 14.1.1: an invalid range spec; ignored like a malformed header
    if start >= size:
        return UNSATISFIABLE
    end = size if last is None else min(int(last) + 1, size)
    return start, end
