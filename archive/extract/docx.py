"""DOCX with python-docx: paragraphs and tables in body order, merged cells written once."""

from __future__ import annotations

import io
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from archive.extract.base import Extracted, ExtractionError

MAX_UNPACKED = 300 * 1024 * 1024  # a DOCX report unpacks to a few MB; more is a zip bomb
MAX_RATIO = 200


def check_zip(data: bytes, what: str = "DOCX") -> None:
    """Refuse archives that would unpack to far more than any real document (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = 0
            for info in zf.infolist():
                total += info.file_size
                if info.file_size > 1_000_000 and info.compress_size and \
                        info.file_size / info.compress_size > MAX_RATIO:
                    ratio = info.file_size // info.compress_size
                    raise ExtractionError(f"the {what} member {info.filename} expands {ratio}-fold: "
                                          f"refused as a zip bomb")
            if total > MAX_UNPACKED:
                raise ExtractionError(f"the {what} would unpack to {total // 2**20} MB: refused as a zip bomb")
    except zipfile.BadZipFile as e:
        raise ExtractionError(f"not a readable {what} (broken ZIP container: {e})") from e


def table_lines(table: Table) -> list[str]:
    lines = []
    for row in table.rows:
        seen: set[int] = set()
        cells = []
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        lines.append("\t".join(cells).rstrip("\t"))
    return lines


def extract_docx(data: bytes) -> Extracted:
    check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises KeyError/ValueError/lxml errors on broken parts
        raise ExtractionError(f"not a readable DOCX ({type(e).__name__}: {e})") from e
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if text:
                lines.append(text)
        elif isinstance(block, Table):
            lines.extend(table_lines(block))
    meta = {}
    if document.core_properties.title:
        meta["docx_title"] = document.core_properties.title
    return Extracted(text="\n".join(lines), meta=meta, method="python-docx")
