"""Scanned PDFs: RapidOCR reads the text, OpenCV finds the tables' ruling lines, and each text box is
placed in the cell that contains its centre.

No OCR engine here returns table structure, and Tesseract misreads table digits (1 -> 下), so the
grid comes from the page image itself: long horizontal and vertical strokes are kept, each table is
a connected group of them, and the white regions between the strokes are its cells. Their edges,
clustered, give the grid lines and so each cell's row, column and spans. Cells read this way are
marked ``recovered: "ocr"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from archive.extract.grid import Grid, GridCell, clean

RENDER_DPI = 200
MAX_OCR_PAGES = 30
EDGE_TOLERANCE = 12  # px at 200 dpi: cell edges closer than this are the same grid line
_engine = None


@dataclass
class Box:
    text: str
    x: float  # centre
    y: float
    top: float
    bottom: float
    left: float


def engine():
    """The RapidOCR engine, loaded once per process (its models ship inside the package)."""
    global _engine
    if _engine is None:
        from rapidocr import RapidOCR

        for name in ("RapidOCR", "rapidocr"):
            logging.getLogger(name).setLevel(logging.ERROR)
        _engine = RapidOCR(params={"Global.log_level": "error"})
    return _engine


def ocr_boxes(gray) -> list[Box]:
    res = engine()(gray)
    out = []
    if res is None or res.boxes is None:
        return out
    for pts, text in zip(res.boxes, res.txts, strict=False):
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        out.append(Box(clean(text), sum(xs) / 4, sum(ys) / 4, min(ys), max(ys), min(xs)))
    return out


def _cluster(values: list[float]) -> list[float]:
    lines: list[float] = []
    for v in sorted(values):
        if lines and v - lines[-1] <= EDGE_TOLERANCE:
            continue
        lines.append(v)
    return lines


def _index(lines: list[float], v: float) -> int:
    return min(range(len(lines)), key=lambda i: abs(lines[i] - v))


def deskew(gray):
    """Rotate the page so its ruling lines are level (a scan tilted by even 1° shifts a table row's
    right end by a whole line, and its cells would fall into two rows)."""
    import math

    import cv2
    import numpy as np

    h, w = gray.shape
    bw = cv2.adaptiveThreshold(255 - gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, -2)
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 30), 1)))
    lines = cv2.HoughLinesP(horiz, 1, np.pi / 1800, threshold=150, minLineLength=w // 4, maxLineGap=25)
    if lines is None:
        return gray, 0.0
    angles = [math.degrees(math.atan2(y2 - y1, x2 - x1)) for x1, y1, x2, y2 in lines.reshape(-1, 4)]
    angles = [a for a in angles if abs(a) < 5]
    if not angles:
        return gray, 0.0
    angle = float(np.median(angles))
    if abs(angle) < 0.05:
        return gray, 0.0
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255), angle


def table_cells(gray) -> list[list[tuple[int, int, int, int]]]:
    """Cell rectangles (x, y, w, h) of each ruled table on the page, tables top to bottom."""
    import cv2
    import numpy as np

    h, w = gray.shape
    bw = cv2.adaptiveThreshold(255 - gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 15, -2)
    horiz = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 30), 1)))
    vert = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(20, h // 40))))
    mask = cv2.dilate(cv2.add(horiz, vert), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    tables = []
    for c in sorted(contours, key=lambda c: cv2.boundingRect(c)[1]):
        x, y, tw, th = cv2.boundingRect(c)
        if tw * th < 0.01 * h * w or tw < w // 5:
            continue
        inside = 255 - mask[y:y + th, x:x + tw]
        n, _, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=4)
        cells = []
        for i in range(1, n):
            cx, cy, cw, ch, area = stats[i]
            if cw < 8 or ch < 8 or area < 0.5 * cw * ch or (cw >= tw - 4 and ch >= th - 4):
                continue
            if cx <= 1 or cy <= 1 or cx + cw >= tw - 1 or cy + ch >= th - 1:
                continue  # the region outside the outer border
            cells.append((x + cx, y + cy, cw, ch))
        if len(cells) >= 4:
            tables.append(cells)
    return tables


def grid_from_cells(cells: list[tuple[int, int, int, int]], boxes: list[Box]) -> Grid:
    """A grid from cell rectangles, with the OCR text whose centre falls in each cell."""
    xs = _cluster([c[0] for c in cells] + [c[0] + c[2] for c in cells])
    ys = _cluster([c[1] for c in cells] + [c[1] + c[3] for c in cells])
    rows, cols = max(1, len(ys) - 1), max(1, len(xs) - 1)
    grid: Grid = [[None] * cols for _ in range(rows)]
    for x, y, w, h in cells:
        r0, r1 = _index(ys, y), _index(ys, y + h)
        c0, c1 = _index(xs, x), _index(xs, x + w)
        if r1 <= r0 or c1 <= c0 or r0 >= rows or c0 >= cols:
            continue
        inside = sorted((b for b in boxes if x <= b.x <= x + w and y <= b.y <= y + h),
                        key=lambda b: (round(b.top / 20), b.left))
        # Boxes joined by line breaks: clean() closes them up between Chinese characters.
        grid[r0][c0] = GridCell(clean("\n".join(b.text for b in inside)), r1 - r0, c1 - c0, recovered="ocr")
    return grid


def lines_of(boxes: list[Box]) -> list[str]:
    """Text lines from boxes: boxes whose vertical centres are close form a line, read left to right."""
    lines: list[list[Box]] = []
    for b in sorted(boxes, key=lambda b: b.y):
        if lines and abs(lines[-1][0].y - b.y) < 0.5 * max(10.0, b.bottom - b.top):
            lines[-1].append(b)
        else:
            lines.append([b])
    return [" ".join(b.text for b in sorted(line, key=lambda b: b.left)) for line in lines]


def ocr_pdf_pages(pdf_bytes: bytes, pages: list[int]) -> tuple[list[str], list[Grid], list[str]]:
    """OCR the given pages: (text per page, grids, warnings)."""
    import pypdfium2 as pdfium

    warnings = []
    if len(pages) > MAX_OCR_PAGES:
        warnings.append(f"{len(pages)} pages need OCR; only the first {MAX_OCR_PAGES} were read")
        pages = pages[:MAX_OCR_PAGES]
    doc = pdfium.PdfDocument(pdf_bytes)
    texts, grids = [], []
    try:
        for i in pages:
            bitmap = doc[i].render(scale=RENDER_DPI / 72, grayscale=True)
            gray = bitmap.to_numpy()
            if gray.ndim == 3:
                gray = gray[:, :, 0]
            gray, _ = deskew(gray)
            boxes = ocr_boxes(gray)
            grids.extend(g for cells in table_cells(gray) if (g := grid_from_cells(cells, boxes)))
            # Table text goes in as lines too, so the text path can read a table the grid missed.
            texts.append("\n".join(lines_of(boxes)))
    finally:
        doc.close()
    return texts, grids, warnings
