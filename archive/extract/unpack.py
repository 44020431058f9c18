"""Inflating within limits counted on the bytes actually produced, never on the sizes a file declares.

``zipfile`` trusts a member's declared size: ``ZipFile.read`` asks zlib for up to 2 GiB in one call and only
then cuts the output to that size, so a 1.5 MB DOCX whose headers under-declare took 2.2 GB in 2 s. Here a
ZIP member's raw deflate stream (and a PDF's FlateDecode stream, see :mod:`archive.extract.pdf`) is inflated
at most :data:`STEP` bytes per call, with a counter that stops at a limit whatever the headers say.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator

from archive.errors import ExtractionError

MB = 2**20
# The limits, in one place (read at call time, so a test may lower them). A government report's DOCX unpacks
# to about a MB (the samples: 0.9 MB, XML members zipped 10-30x, styles.xml 29x); one with photographs to tens.
MAX_MEMBER = 200 * MB  # one part: python-docx's lxml tree of document.xml takes 5-10x its size in memory
MAX_TOTAL = 300 * MB  # the package, held twice (members, then the repacked ZIP) within a parse's 2-8 GB ceiling
MAX_RATIO = 100  # real XML zips 10-30x; past RATIO_FLOOR, more than 100x is a bomb (zeros give 1000x)
RATIO_FLOOR = 10 * MB  # a small member may be very repetitive (an empty table's XML): judge the ratio past this
STEP = 1 * MB  # the most one inflate call produces: how far a counter can pass a limit before it is seen
FEED = 64 * 1024  # compressed bytes handed to zlib at a time

Decompressor = type(zlib.decompressobj())  # zlib.Decompress, which the module does not name
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, 22 bytes we skip, name length, extra-field length


def inflate(raw: bytes | memoryview, wbits: int = -zlib.MAX_WBITS, *, whole: bool = False,
            d: Decompressor | None = None) -> Iterator[tuple[bytes, int]]:
    """Pieces of at most STEP inflated bytes, each with the compressed bytes consumed so far, so the caller
    can stop (by not asking for more) before a bomb is in memory. Stops at the end of the deflate stream or
    of ``raw``; bad data raises ``zlib.error``, and so does a stream cut short if ``whole`` (as
    ``zlib.decompress`` does). ``d`` is a decompressor to go on with (else a new one)."""
    d = d or zlib.decompressobj(wbits)
    view, fed, tail = memoryview(raw), 0, b""
    while not d.eof:
        if not tail:
            if fed >= len(view):
                if whole:
                    raise zlib.error("incomplete or truncated stream")
                return
            tail = view[fed:fed + FEED]
            fed += len(tail)
        piece = d.decompress(tail, STEP)
        tail = d.unconsumed_tail
        if piece:
            yield piece, fed - len(tail)


def read_members(data: bytes, what: str = "DOCX") -> dict[str, bytes]:
    """Every member of a ZIP container, inflated within the limits above (``ExtractionError`` in words if
    one is passed or the container is broken); a name met twice keeps its last member, as ``zipfile`` does."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as e:  # zipfile also raises these on damaged headers
        raise ExtractionError(f"not a readable {what} (broken ZIP container: {e})") from e
    check_declared(infos, what)
    members: dict[str, bytes] = {}
    total = 0
    for info in infos:
        members[info.filename] = body = _member(data, info, total, what)
        total += len(body)
    return members


def check_declared(infos: list[zipfile.ZipInfo], what: str = "DOCX") -> None:
    """The cheap first test, on the sizes the central directory declares: refuses an honest bomb unread."""
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size > MAX_MEMBER:
            raise _bomb(what, info.filename, f"would unpack to {_mb(info.file_size)}")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
            ratio = info.file_size // max(1, info.compress_size)
            raise _bomb(what, info.filename, f"expands {ratio}-fold")
    if total > MAX_TOTAL:
        raise ExtractionError(f"the {what} would unpack to {_mb(total)}: refused as a zip bomb")


def repack(members: dict[str, bytes]) -> io.BytesIO:
    """The members as a ZIP whose parts are stored, not deflated: what reads it next (python-docx) has
    nothing left to inflate, so nothing downstream can be handed more than was read here."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    out.seek(0)
    return out


def _member(data: bytes, info: zipfile.ZipInfo, spent: int, what: str) -> bytes:
    """One member inflated by hand from its raw bytes, counting as it goes (``spent``: the members before)."""
    if info.flag_bits & 0x1:
        raise ExtractionError(f"the {what} member {info.filename} is encrypted, so it cannot be read")
    raw = _raw(data, info, what)
    if info.compress_type == zipfile.ZIP_STORED:
        pieces: Iterator[tuple[bytes, int]] = iter([(bytes(raw), len(raw))])
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        pieces = inflate(raw)
    else:
        raise ExtractionError(f"the {what} member {info.filename} is compressed with ZIP method "
                              f"{info.compress_type}, which no word processor writes")
    out: list[bytes] = []
    size = crc = 0
    try:
        for piece, consumed in pieces:
            size += len(piece)
            _within_limits(info, size, consumed, spent, what)
            out.append(piece)
            crc = zlib.crc32(piece, crc)
    except zlib.error as e:
        raise ExtractionError(f"not a readable {what} (broken ZIP container: {info.filename}: {e})") from e
    if crc != info.CRC:  # zipfile checks it too: a damaged member must not pass for a short one
        raise ExtractionError(f"not a readable {what} (broken ZIP container: {info.filename} fails its CRC check)")
    return b"".join(out)


def _within_limits(info: zipfile.ZipInfo, size: int, consumed: int, spent: int, what: str) -> None:
    """Refuse as soon as the bytes inflated so far pass a limit, saying what the header claimed."""
    said = f", though its header says {_mb(info.file_size)}" if info.file_size < size else ""
    if size > MAX_MEMBER:
        raise _bomb(what, info.filename, f"inflates past {_mb(MAX_MEMBER)}{said}")
    if size > RATIO_FLOOR and size > MAX_RATIO * consumed:
        raise _bomb(what, info.filename, f"inflates more than {MAX_RATIO}-fold ({_mb(size)} from "
                                         f"{_mb(consumed)}){said}")
    if spent + size > MAX_TOTAL:
        raise ExtractionError(f"the {what} unpacks to more than {_mb(MAX_TOTAL)} (at member {info.filename}"
                              f"{said}): refused as a zip bomb")


def _raw(data: bytes, info: zipfile.ZipInfo, what: str) -> memoryview:
    """A member's compressed bytes: after its local header, whose name and extra field may differ in
    length from the central directory's (zipfile reads them the same way)."""
    start = info.header_offset
    if start < 0 or start + _LOCAL_HEADER.size > len(data):
        raise ExtractionError(f"not a readable {what} (broken ZIP container: {info.filename} lies outside it)")
    magic, name_len, extra_len = _LOCAL_HEADER.unpack_from(data, start)
    if magic != b"PK\x03\x04":
        raise ExtractionError(f"not a readable {what} (broken ZIP container: bad local header for {info.filename})")
    begin = start + _LOCAL_HEADER.size + name_len + extra_len
    return memoryview(data)[begin:begin + info.compress_size]


def _bomb(what: str, member: str, how: str) -> ExtractionError:
    return ExtractionError(f"the {what} member {member} {how}: refused as a zip bomb")


def _mb(n: int) -> str:
    """A size in words: MB from 1 MB up, else KB, else bytes."""
    if n >= MB:
        return f"{n / MB:.0f} MB" if n >= 10 * MB else f"{n / MB:.1f} MB"
    return f"{n // 1024} KB" if n >= 1024 else f"{n} bytes"
