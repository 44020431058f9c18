"""Hostile inputs, made here rather than stored as binaries: each is small on disk and costly to read."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator

MB = 2**20
W_NS = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                 b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                 b'<Default Extension="xml" ContentType="application/xml"/>'
                 b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
                 b'wordprocessingml.document.main+xml"/></Types>')
PACKAGE_RELS = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                b'officeDocument" Target="word/document.xml"/></Relationships>')


def pdf_operator_bomb(operators_mb: float) -> bytes:
    """A one-page PDF whose content stream, deflated to a sliver, holds ``operators_mb`` MB of text-drawing
    operators (a real one had 60 MB in 214 KB and took 205 s and 11 GB to parse)."""
    op = b"BT /F1 9 Tf 72 720 Td (x) Tj ET\n"
    return _one_page_pdf(zlib.compress(op * int(operators_mb * 1e6 / len(op)), 9))


def pdf_deflate_bomb(inflated_mb: float, *, bad_checksum: bool = False) -> bytes:
    """A one-page PDF whose content stream inflates to ``inflated_mb`` MB of blanks (about 1000-fold),
    deflated piece by piece so making it never holds them; ``bad_checksum`` spoils the stream's Adler-32,
    which sends pdfminer down its byte-by-byte path for corrupted streams."""
    stream = b"".join(_deflated(_repeat(b" " * MB, inflated_mb), wbits=zlib.MAX_WBITS))
    if bad_checksum:
        stream = stream[:-4] + bytes(b ^ 0xFF for b in stream[-4:])
    return _one_page_pdf(stream)


def lying_docx(inflated_mb: float, *, declared: int = 1024) -> bytes:
    """A DOCX that is valid but for its ZIP headers: both the local and the central header of
    word/document.xml say ``declared`` bytes, while it really inflates to ``inflated_mb`` MB (blanks in one
    paragraph, about 1000-fold, deflated piece by piece: 400 MB take 1.3 s and 0.4 MB to make)."""
    head = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ' + W_NS + \
           b'><w:body><w:p><w:r><w:t xml:space="preserve">'
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    body = _repeat(b" " * MB, inflated_mb)
    parts = [("[Content_Types].xml", [CONTENT_TYPES]), ("_rels/.rels", [PACKAGE_RELS]),
             ("word/document.xml", _chain([head], body, [tail]))]
    return _zip_by_hand(parts, declared={"word/document.xml": declared})


def large_docx(rows: int) -> bytes:
    """An honest DOCX, big but within every limit: ``rows`` paragraphs of varied report text (100,000 rows
    make a 6.7 MB document.xml that zips 10-fold, like a real one)."""
    paragraphs = b"".join(f"<w:p><w:r><w:t>第{i}行 收到申请 {i * 7919 % 100000} 件</w:t></w:r></w:p>".encode()
                          for i in range(rows))
    document = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ' + W_NS +
                b"><w:body>" + paragraphs + b"</w:body></w:document>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", PACKAGE_RELS)
        zf.writestr("word/document.xml", document)
    return out.getvalue()


def _one_page_pdf(content: bytes) -> bytes:
    """A one-page PDF drawing with Helvetica, ``content`` its FlateDecode content stream."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _repeat(block: bytes, mb: float) -> Iterator[bytes]:
    """``mb`` MB of ``block`` repeated, a block at a time."""
    left = int(mb * MB)
    while left > 0:
        yield block[:left]
        left -= len(block)


def _chain(*pieces: Iterable[bytes]) -> Iterator[bytes]:
    for p in pieces:
        yield from p


def _deflated(pieces: Iterable[bytes], wbits: int = -zlib.MAX_WBITS) -> Iterator[bytes]:
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    for p in pieces:
        yield c.compress(p)
    yield c.flush()


def _zip_by_hand(parts: list[tuple[str, Iterable[bytes]]], declared: dict[str, int]) -> bytes:
    """A deflated ZIP written field by field (zipfile writes only true sizes): a part named in ``declared``
    gets that uncompressed size in both its headers; its CRC is the true one, as a forger would leave it."""
    out, central = bytearray(), bytearray()
    for name, pieces in parts:
        crc = size = 0
        c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        data = bytearray()
        for p in pieces:  # one pass: the true CRC and size while deflating, never the whole part in memory
            crc, size = zlib.crc32(p, crc), size + len(p)
            data += c.compress(p)
        data += c.flush()
        # version 2.0, no flags, deflated, a fixed DOS time and date, CRC, sizes
        fields = (20, 0, 8, 0, 0x21, crc, len(data), declared.get(name, size))
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, len(name), 0) + name.encode() + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, len(name), 0, 0, 0, 0, 0, offset)
        central += name.encode()
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(central), len(out), 0)
    return bytes(out + central + end)
