"""Hostile inputs, made here rather than stored as binaries: each is small on disk and costly to read."""

from __future__ import annotations

import zlib


def pdf_operator_bomb(operators_mb: float) -> bytes:
    """A one-page PDF whose content stream, deflated to a sliver, holds ``operators_mb`` MB of text-drawing
    operators (a real one had 60 MB in 214 KB and took 205 s and 11 GB to parse)."""
    op = b"BT /F1 9 Tf 72 720 Td (x) Tj ET\n"
    stream = zlib.compress(op * int(operators_mb * 1e6 / len(op)), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
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
