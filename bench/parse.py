"""Parsing speed per format on generated reports, next to the raw extraction by the library alone.

    .venv/bin/python bench/parse.py [--n 20] [--ocr-pages 4]

For each format: documents per second fully parsed (``archive.parser.parse``: text, grids, the three
tables, checks) and, measured in the same run on the same files, the floor: the underlying library's
own text extraction (lxml text, python-docx paragraphs and tables, pdfplumber ``extract_text``,
LibreOffice conversion, RapidOCR). Targets on a 2-core machine: a 10-page text PDF under 1 s, a DOCX
under 0.2 s, HTML under 0.1 s; OCR is reported per page.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.extract.office import to_docx as office_to_docx  # noqa: E402
from archive.parser import parse  # noqa: E402
from spiders.demo.generator import generate, libreoffice, to_docx, to_html, to_scanned_pdf, to_text  # noqa: E402


def floor_html(data: bytes) -> None:
    import lxml.html

    lxml.html.document_fromstring(data).text_content()


def floor_docx(data: bytes) -> None:
    import docx

    d = docx.Document(io.BytesIO(data))
    _ = [p.text for p in d.paragraphs] + [c.text for t in d.tables for r in t.rows for c in r.cells]


def floor_pdf(data: bytes) -> None:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(data)) as pdf:
        _ = [p.extract_text() for p in pdf.pages]


def floor_text(data: bytes) -> None:
    data.decode("utf-8")


def timed(fn, items) -> list[float]:
    out = []
    for x in items:
        t = time.perf_counter()
        fn(x)
        out.append(time.perf_counter() - t)
    return out


def row(name: str, docs: list[bytes], parse_times: list[float], floor_times: list[float], target: float | None,
        unit: str = "doc") -> None:
    p, f = statistics.median(parse_times), statistics.median(floor_times)
    verdict = "" if target is None else (" ok" if max(parse_times) < target else f" OVER target {target} s")
    print(f"  {name:<22} parse {p * 1000:8.1f} ms/{unit} ({1 / p:7.1f}/s, max {max(parse_times) * 1000:7.1f} ms)"
          f"   floor {f * 1000:8.1f} ms   parse/floor {p / f:5.1f}x{verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20, help="documents per format")
    ap.add_argument("--ocr-pages", type=int, default=4)
    args = ap.parse_args()
    reps = [generate(1000 + i, "2021" if i % 2 else "2019") for i in range(args.n)]
    print(f"{args.n} generated reports per format (both templates)")
    html = [to_html(r) for r in reps]
    docx = [to_docx(r) for r in reps]
    text = [to_text(r, "tabs").encode() for r in reps]
    long = generate(2000, "2021")
    long.padding = 35  # about 10 pages
    long_docx = to_docx(long)
    t = time.perf_counter()
    pdfs = [libreoffice(d, "pdf") for d in docx[:5]]
    long_pdf = libreoffice(long_docx, "pdf")
    docs = [libreoffice(d, "doc") for d in docx[:5]]
    print(f"(LibreOffice made the PDF and DOC inputs in {time.perf_counter() - t:.1f} s)\n")

    import pypdfium2 as pdfium

    pages = len(pdfium.PdfDocument(long_pdf))
    print("format                  full parse                                        raw extraction")
    row("HTML", html, timed(lambda d: parse(d, kind="html"), html), timed(floor_html, html), 0.1)
    row("DOCX", docx, timed(lambda d: parse(d, kind="docx"), docx), timed(floor_docx, docx), 0.2)
    row("text (tab rows)", text, timed(lambda d: parse(d, kind="text"), text), timed(floor_text, text), None)
    row("PDF (report, 3-4 pp)", pdfs, timed(lambda d: parse(d, kind="pdf"), pdfs), timed(floor_pdf, pdfs), 1.0)
    row(f"PDF ({pages} pages)", [long_pdf], timed(lambda d: parse(d, kind="pdf"), [long_pdf] * 3),
        timed(floor_pdf, [long_pdf] * 3), 1.0)
    single = timed(lambda d: parse(d, kind="doc"), docs[:2])
    t = time.perf_counter()
    converted = office_to_docx([(d, "doc") for d in docs])
    batch = (time.perf_counter() - t) / len(docs)
    parse_after = timed(lambda d: parse(b"", kind="doc", docx=d), converted)
    print(f"  {'DOC via LibreOffice':<22} parse {statistics.median(single) * 1000:8.1f} ms/doc one at a time; "
          f"in a batch of {len(docs)}: {batch * 1000:.0f} ms/doc conversion + "
          f"{statistics.median(parse_after) * 1000:.1f} ms/doc parse")
    scan = to_scanned_pdf(pdfs[0], pages=args.ocr_pages)
    n_scan = len(pdfium.PdfDocument(scan))
    t = time.perf_counter()
    parse(scan, kind="pdf")
    full = time.perf_counter() - t
    from archive.extract.ocr import engine, ocr_boxes

    engine()
    doc = pdfium.PdfDocument(scan)
    t = time.perf_counter()
    for i in range(n_scan):
        g = doc[i].render(scale=200 / 72, grayscale=True).to_numpy()
        ocr_boxes(g[:, :, 0] if g.ndim == 3 else g)
    ocr_only = time.perf_counter() - t
    print(f"  {'scanned PDF (OCR)':<22} parse {full / n_scan * 1000:8.1f} ms/page ({n_scan} pages)   "
          f"floor (RapidOCR alone) {ocr_only / n_scan * 1000:8.1f} ms/page   parse/floor {full / ocr_only:5.2f}x")


if __name__ == "__main__":
    main()
