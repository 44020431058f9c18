"""Read the three statistical tables into the spec's cells, from grids when the document has them and
from text otherwise.

A number is read only from its own cell: a row is matched to a template row by its label, its values
are matched to columns by the header above them (grids) or by order (text), and a row whose count does
not fit is reported, not shifted. Glued digits are split only where the template's arithmetic leaves
exactly one reading (:mod:`archive.parser.values`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from archive.extract.grid import Grid, clean
from archive.parser import layout as L
from archive.parser.checks import COLUMN_IDENTITY
from archive.parser.labels import find_header, fuzzy_match, key_match, normalise, piece_match
from archive.parser.rows import SourceRow, rows_from_grid, rows_from_text
from archive.parser.values import Token, TooMany, Value, drops, read, splits

WINDOW = 8  # how far past the next expected row a label may match (rows may be missing)
MAX_COMBOS = 20_000


@dataclass
class TableResult:
    cells: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    found: bool = False  # the table is in the document (even if no cell could be read)
    source: str = ""  # "grid" or "text"


def cell(table: str, row: str, column: str, v: Value, label: str, recovered: str | None = None) -> dict:
    out = {"table": table, "row": row, "column": column, "value": v.value, "raw": v.raw, "label": label}
    rec = recovered or v.recovered
    if rec:
        out["recovered"] = rec
    return out


def _label_for(row: SourceRow, spec: L.RowSpec) -> str:
    """The segment of the row's label that names the matched row, as written."""
    for seg in reversed(row.segments):
        n = normalise(seg)
        if key_match(spec, n) or piece_match(spec, seg):
            return seg
    return row.own or spec.label


def match(specs: Sequence[L.RowSpec], row: SourceRow, start: int, window: int = WINDOW) -> int | None:
    """Index of the template row this row is, searching forward from ``start``: by its deepest label
    first (key phrase, then a piece of the template wording), then by its whole label."""
    stop = min(len(specs), start + window)
    own = normalise(row.own)
    for i in range(start, stop):
        if own and key_match(specs[i], own):
            return i
    for i in range(start, stop):
        if row.own and piece_match(specs[i], row.own, expected=i == start):
            return i
    ctx = normalise(row.context)
    for i in range(start, stop):
        if ctx and key_match(specs[i], ctx):
            return i
    if start < len(specs) and row.own and fuzzy_match(specs[start], row.own):
        return start
    return None


# -- fitting values to columns ---------------------------------------------------------------------

@dataclass
class Fit:
    values: dict[str, Value] | None = None  # decided
    options: list[dict[str, Value]] = field(default_factory=list)  # several readings fit
    problem: str | None = None


def fit(tokens: list[Token], columns: Sequence[str], col_map: dict[int, str] | None,
        identity: Callable[[list[int]], bool] | None, *, money: frozenset = frozenset(),
        signed: frozenset = frozenset()) -> Fit:
    """Assign a row's tokens to its columns: by grid position when known, else by order, splitting
    glued digits or dropping strays only where ``identity`` leaves one reading."""
    def value(tok: Token, col: str) -> Value:
        return read(tok, col, money=col in money, signed=col in signed)

    if col_map is not None and any(t.col is not None for t in tokens):
        out: dict[str, Value] = {}
        odd = []
        for t in tokens:
            col = col_map.get(t.col) if t.col is not None else None
            if col is not None and col in columns:
                out[col] = value(t, col)
                if t.kind == "text":
                    odd.append(f"“{t.raw[:12]}” under {col} is not a number")
        if not out:
            return Fit(problem="no value under a known column")
        return Fit(values=out, problem="; ".join(odd) + " (kept as a blank cell with its text)" if odd else None)
    present = [t for t in tokens if t.kind != "empty"]
    n = len(columns)
    if len(present) == n:
        return Fit(values={c: value(t, c) for c, t in zip(columns, present, strict=True)})
    numbers = [t for t in present if t.kind == "number"]
    if len(present) < n and len(numbers) == len(present) and all(t.raw.isdigit() for t in numbers):
        try:
            readings = splits([t.raw for t in numbers], n, identity)
        except TooMany as e:
            return Fit(problem=f"its digits ran together and {e}")
        rec = numbers[0].recovered
        how = f"{rec}+split" if rec else "split"
        options = [{c: Value(int(x), x, how) for c, x in zip(columns, r, strict=True)} for r in readings]
        if len(options) == 1:
            return Fit(values=options[0])
        if options:
            return Fit(options=options, problem=f"its digits ran together and {len(options)} readings fit")
        return Fit(problem=f"{len(present)} value(s) for {n} columns, and no split of the digits fits the totals")
    if len(present) > n and len(numbers) == len(present):
        ints = [value(t, "") for t in numbers]
        if all(isinstance(v.value, int) for v in ints):
            kept = drops([v.value for v in ints], n, identity)  # type: ignore[misc]
            if len(kept) == 1:
                vals = kept[0]
                return Fit(values={c: Value(v, str(v)) for c, v in zip(columns, vals, strict=True)},
                           problem=f"{len(present)} values for {n} columns; the extra one(s) dropped as only "
                                   f"one reading fits the totals")
    return Fit(problem=f"{len(present)} value(s) for {n} columns")


def _sum_ok(values: list[int]) -> bool:
    return sum(values[:-1]) == values[-1]


# -- table 三 ---------------------------------------------------------------------------------------

APPLICATION_SPECS = (*L.APPLICATION_ROWS_HEAD, L.APPLICATION_ROW_2019_OTHER, *L.APPLICATION_ROWS_2021_OTHER,
                     *L.APPLICATION_ROWS_TAIL)


def is_applications_grid(grid: Grid) -> bool:
    text = normalise("".join(c.text for row in grid for c in row if c))
    return ("本年新收" in text or "自然人" in text) and ("予以公开" in text or "总计" in text or "商业企业" in text)


def header_columns(grid: Grid, words, stop_row: int, *, exclude_in: str | None = None) -> dict[int, str]:
    """Column index -> column id from the deepest header cell above ``stop_row`` in each column."""
    width = max((len(r) for r in grid), default=0)
    out: dict[int, str] = {}
    for j in range(width):
        for r in range(min(stop_row, len(grid)) - 1, -1, -1):
            c = grid[r][j] if j < len(grid[r]) else None
            if c is None or not clean(c.text):
                continue
            t = normalise(c.text)
            if exclude_in and exclude_in in t:
                continue
            col = find_header(words, c.text)
            if col and col not in out.values():
                out[j] = col
            break
    return out


def _continues(grid: Grid) -> bool:
    """A grid that carries table 三 on after a page break: rows of the template, and not table 四.
    (Its width may differ: the first page's part of a table can lose a label column.)"""
    text = normalise("".join(c.text for row in grid for c in row if c))
    return not is_review_grid(grid) and any(k in text for s in APPLICATION_SPECS for k in s.keys if len(k) >= 3)


def read_applications(grids: list[Grid], text: str) -> TableResult:
    """Table 三 from its grid(s) if any, else from the section's text.

    A table split by page breaks comes as several grids; each gets its own column map (the parts
    after the first have no header), and their rows are read as one table.
    """
    mine: list[Grid] = []
    for g in grids:
        if is_applications_grid(g) or (mine and _continues(g)):
            mine.append(g)
        elif mine:
            break
    if mine:
        rows: list[SourceRow] = []
        for grid in mine:
            first = next((i for i, row in enumerate(rows_from_grid(grid)) if any(
                key_match(L.APPLICATION_ROWS_HEAD[0], normalise(s)) for s in row.segments)), 0)
            cols = header_columns(grid, L.APPLICATION_HEADERS, first, exclude_in="法人或其他组织")
            if len(cols) < len(L.APPLICATION_COLUMNS):
                cols = _numeric_columns(grid[first:], len(L.APPLICATION_COLUMNS))
            if not cols:
                continue
            order = {j: L.APPLICATION_COLUMNS.index(c) for j, c in cols.items()}
            for row in rows_from_grid(grid, cols):
                row.tokens = [Token(t.raw, t.kind, order[t.col], t.recovered) for t in row.tokens]
                rows.append(row)
        res = _applications(rows, dict(enumerate(L.APPLICATION_COLUMNS)))
        res.source = "grid"
        if res.cells:
            return res
    res = _applications(rows_from_text(text), None)
    res.source = "text"
    return res


def _numeric_columns(grid: Grid, n: int) -> dict[int, str]:
    """The last ``n`` columns that hold numbers in most rows, in template order (no usable header)."""
    width = max((len(r) for r in grid), default=0)
    counts = [0] * width
    for row in grid:
        for j, c in enumerate(row):
            if c is not None and c.text.strip() and c.text.strip().replace(".", "").isdigit():
                counts[j] += 1
    numeric = [j for j in range(width) if counts[j] >= max(1, len(grid) // 3)]
    if len(numeric) < n:
        return {}
    return dict(zip(numeric[-n:], L.APPLICATION_COLUMNS, strict=True))


def _applications(rows: list[SourceRow], col_map: dict[int, str] | None) -> TableResult:
    res = TableResult()
    filled: dict[str, tuple[dict[str, Value], str, str | None]] = {}
    pending: dict[str, tuple[list[dict[str, Value]], str]] = {}
    short: dict[str, tuple[list[Token], str, list[int]]] = {}  # rows seen whose values did not fit
    pos = 0
    for row in rows:
        if not row.tokens or all(t.kind == "empty" for t in row.tokens):
            if match(APPLICATION_SPECS, row, 0, len(APPLICATION_SPECS)) is not None:
                res.found = True
            continue
        i = match(APPLICATION_SPECS, row, pos)
        if i is None:
            if any(t.kind == "number" for t in row.tokens) and normalise(row.context):
                res.warnings.append(f"table 三: a row labelled “{row.own[:30]}” matches no template row; "
                                    f"its {len(row.tokens)} value(s) were not read")
            continue
        spec = APPLICATION_SPECS[i]
        res.found = True
        if spec.id in filled:
            continue
        label = _label_for(row, spec)
        j = _row_above(row, i, pos, filled) if col_map is None else None
        if j is not None:
            above = APPLICATION_SPECS[j]
            both = _two_rows(row.tokens)
            if isinstance(both, str):
                res.warnings.append(f"table 三 row {above.id} and row {spec.id} ({label[:20]}): {both}; "
                                    f"their cells were left out")
                continue
            filled[above.id] = (both[0], _label_for(row, above), None)
            filled[spec.id] = (both[1], label, None)
            pos = i + 1
            continue
        f = fit(row.tokens, L.APPLICATION_COLUMNS, col_map, _sum_ok)
        if f.values is not None:
            filled[spec.id] = (f.values, label, row.recovered)
            pending.pop(spec.id, None)
            if f.problem:
                res.warnings.append(f"table 三 row {spec.id} ({label[:20]}): {f.problem}")
        elif f.options:
            pending[spec.id] = (f.options, label)
        else:
            short.setdefault(spec.id, (row.tokens, label, []))[2].append(len(res.warnings))
            res.warnings.append(f"table 三 row {spec.id} ({label[:20]}): {f.problem}; its cells were left out")
            continue  # do not move past it: a better copy of the row may follow
        pos = i + 1
        if spec.id == "3.6":
            pos = APPLICATION_SPECS.index(L.APPLICATION_ROWS_TAIL[0])
    _resolve_pending(filled, pending, res)
    _recover_by_columns(filled, short, res)
    order = [s.id for s in APPLICATION_SPECS]
    for rid in sorted(filled, key=order.index):
        values, label, rec = filled[rid]
        for col in L.APPLICATION_COLUMNS:
            if col in values:
                res.cells.append(cell("applications", rid, col, values[col], label, rec))
    return res


# Each template's rows in order: a label displaced above its numbers is the row just before.
TEMPLATE_ORDERS = tuple([s.id for s in (*L.APPLICATION_ROWS_HEAD, *other, *L.APPLICATION_ROWS_TAIL)]
                        for other in (L.APPLICATION_ROWS_2021_OTHER, (L.APPLICATION_ROW_2019_OTHER,)))
ROWS_SPLIT = "rows split"


def _row_above(row: SourceRow, i: int, pos: int, filled: dict) -> int | None:
    """The template row just before row ``i`` when its label stands above this row's label with no
    numbers of its own and this line holds more numbers than one row has (PDF text that set a tall
    label cell above its row): the index of that row, else None."""
    if len(row.segments) < 2 or len([t for t in row.tokens if t.kind != "empty"]) <= len(L.APPLICATION_COLUMNS):
        return None
    for seg in reversed(row.segments[:-1]):
        j = match(APPLICATION_SPECS, SourceRow([seg]), pos, max(0, i - pos))
        if j is None:
            continue  # a group label such as （四）无法提供, or a piece of this row's own label
        a, b = APPLICATION_SPECS[j].id, APPLICATION_SPECS[i].id
        if a == L.APPLICATION_ROW_2019_OTHER.id and b.startswith(a + "."):
            continue  # （六）其他处理 heads the 2021 template's three rows
        if a in filled or not any(a in o and b in o and o.index(b) == o.index(a) + 1 for o in TEMPLATE_ORDERS):
            return None
        return j
    return None


def _two_rows(tokens: list[Token]) -> tuple[dict[str, Value], dict[str, Value]] | str:
    """Two rows' numbers run together, split so that each row adds up to its total; the one reading
    that does, or why there is none."""
    n = len(L.APPLICATION_COLUMNS)
    present = [t for t in tokens if t.kind != "empty"]
    if any(t.kind != "number" or not t.raw.isdigit() for t in present) or len(present) > 2 * n:
        return f"{len(present)} values where two rows have {2 * n}"
    try:
        readings = splits([t.raw for t in present], 2 * n, lambda v: _sum_ok(v[:n]) and _sum_ok(v[n:]))
    except TooMany as e:
        return f"two rows' numbers ran together and {e}"
    if len(readings) != 1:
        return (f"two rows' numbers ran together ({len(present)} values) and "
                f"{'no' if not readings else len(readings)} reading(s) fit the row totals")
    cells = [Value(int(x), x, ROWS_SPLIT) for x in readings[0]]
    return dict(zip(L.APPLICATION_COLUMNS, cells[:n], strict=True)), dict(zip(L.APPLICATION_COLUMNS, cells[n:],
                                                                              strict=True))


def _resolve_pending(filled: dict, pending: dict, res: TableResult) -> None:
    """Choose among several readings of glued rows by the column identities across rows."""
    if not pending:
        return
    ids = list(pending)
    total = 1
    for rid in ids:
        total *= len(pending[rid][0])
    if total > MAX_COMBOS:
        for rid in ids:
            res.warnings.append(f"table 三 row {rid}: digits ran together and too many readings fit; left out")
        return
    good = []
    for combo in itertools.product(*(pending[r][0] for r in ids)):
        rows = {rid: vals for rid, (vals, _, _) in filled.items()}
        rows.update(dict(zip(ids, combo, strict=True)))
        if _columns_consistent(rows):
            good.append(combo)
    if len(good) == 1:
        for rid, vals in zip(ids, good[0], strict=True):
            filled[rid] = (vals, pending[rid][1], None)
        return
    for rid in ids:
        why = "no reading fits the column totals" if not good else f"{len(good)} readings fit the column totals"
        res.warnings.append(f"table 三 row {rid} ({pending[rid][1][:20]}): digits ran together and {why}; left out")


def _recover_by_columns(filled: dict, short: dict, res: TableResult) -> None:
    """Outcome rows whose numbers the text mangled, from (七)总计 less the outcome rows that were read.

    Only rows the document shows (a label met with values that did not fit) are recovered, and only
    when every other outcome row and the total were read whole: then each column leaves one value per
    missing row (several missing rows only when the remainder is 0, counts being non-negative). The
    result must also add up along its row and keep, in order, the numbers the text did hold for it.
    """
    if all(r in filled for r in short):  # every mangled copy of a row was followed by a good one
        return
    seen = set(filled) | set(short)
    outcomes = L.OUTCOME_ROWS_2021 if any(r.startswith("3.6.") for r in seen) else L.OUTCOME_ROWS_2019
    missing = [r for r in outcomes if r not in filled]
    if not missing or any(r not in short for r in missing) or "3.7" not in filled:
        return
    rows = {rid: vals for rid, (vals, _, _) in filled.items()}
    out: dict[str, dict[str, Value]] = {r: {} for r in missing}
    for col in L.APPLICATION_COLUMNS:
        known = [_num(rows, r, col) for r in outcomes if r not in out]
        total = _num(rows, "3.7", col)
        if total is None or None in known:
            return
        rest = total - sum(known)  # type: ignore[arg-type]
        if rest < 0 or (rest and len(missing) > 1):
            return
        for r in missing:
            out[r][col] = Value(rest, str(rest), COLUMN_IDENTITY)
    for rid, vals in out.items():
        numbers = [vals[c].value for c in L.APPLICATION_COLUMNS]
        if not _sum_ok(numbers) or not _keeps(short[rid][0], numbers):  # type: ignore[arg-type]
            return
    for rid, vals in out.items():
        _, label, where = short[rid]
        filled[rid] = (vals, label, None)
        res.warnings[where[0]] = (f"table 三 row {rid} ({label[:20]}): its values ran into other rows; "
                                  f"recovered from the column totals (rows 3.1 … 3.6 add up to (七)总计)")
        for i in where[1:]:
            res.warnings[i] = ""
    res.warnings[:] = [w for w in res.warnings if w]


def _keeps(tokens: list[Token], values: list[int]) -> bool:
    """Whether the numbers the text holds for a row appear, in order, among its recovered values
    (a token may be several cells' digits run together)."""
    runs = [t.raw for t in tokens if t.kind == "number"]
    if any(not r.isdigit() for r in runs) or len(tokens) != len(runs):
        return False
    cells = [str(v) for v in values]

    def fits(i: int, j: int) -> bool:
        if i == len(runs):
            return True
        for start in range(j, len(cells)):
            glued = ""
            for end in range(start, len(cells)):
                glued += cells[end]
                if glued == runs[i] and fits(i + 1, end + 1):
                    return True
                if not runs[i].startswith(glued):
                    break
        return False

    return fits(0, 0)


def _num(rows: dict, rid: str, col: str) -> int | None:
    v = rows.get(rid, {}).get(col)
    return v.value if v is not None and isinstance(v.value, int) else None


def _columns_consistent(rows: dict[str, dict[str, Value]]) -> bool:
    outcomes = [r for r in rows if r.startswith("3.") and r != "3.7"]
    for col in L.APPLICATION_COLUMNS:
        a, b, t, c = (_num(rows, r, col) for r in ("1", "2", "3.7", "4"))
        if None not in (a, b, t, c) and a + b != t + c:  # type: ignore[operator]
            return False
        parts = [_num(rows, r, col) for r in outcomes]
        if t is not None and parts and None not in parts and sum(parts) != t:  # type: ignore[arg-type]
            return False
    return True


# -- table 四 ---------------------------------------------------------------------------------------

REVIEW_CELLS = tuple((r, c) for r in L.REVIEW_ROWS for c in L.REVIEW_COLUMNS)


def is_review_grid(grid: Grid) -> bool:
    text = normalise("".join(c.text for row in grid for c in row if c))
    return "行政复议" in text and ("维持" in text or "纠正" in text) and "本年新收" not in text


def read_review(grids: list[Grid], text: str) -> TableResult:
    res = TableResult()
    for grid in (g for g in grids if is_review_grid(g)):
        res.found = True
        cols = _review_columns(grid)
        for row in rows_from_grid(grid, {j: f"{g}.{c}" for j, (g, c) in cols.items()} if cols else None):
            if not any(t.kind in ("number", "blank") for t in row.tokens):
                continue
            if cols and len(cols) == len(REVIEW_CELLS):
                vals = {cols[t.col]: read(t, "", money=False, signed=False) for t in row.tokens
                        if t.col in cols}
                for g, c in REVIEW_CELLS:
                    if (g, c) in vals:
                        res.cells.append(cell("review_litigation", g, c, vals[(g, c)], L.REVIEW_LABELS[g]))
                res.source = "grid"
                return res
            _review_positional(_group_rows(grid) or row.tokens, res)
            res.source = "grid"
            return res
    tokens = _review_tokens(rows_from_text(text))
    if tokens is not None:
        res.found = True
        if tokens:
            _review_positional(tokens, res)
    res.source = "text"
    return res


def _group_rows(grid: Grid) -> list[Token] | None:
    """Table 四 set upright, a row per group (行政复议, 未经复议直接起诉, 复议后起诉) under one header of the
    five results: the three rows' values in template order, or None if the grid is not that shape."""
    by_group: dict[str, list[Token]] = {}
    leaves: list[str] = []
    for row in rows_from_grid(grid):
        values = [Token(t.raw, t.kind, None, t.recovered) for t in row.tokens if t.kind in ("number", "blank")]
        if not values:
            if not by_group:  # a header row: its result columns must come in the template's order
                leaves += [leaf for seg in row.segments if (leaf := find_header(L.REVIEW_HEADERS, seg))]
            continue
        if leaves != list(L.REVIEW_COLUMNS):
            return None
        group = find_header(L.REVIEW_GROUPS, row.context)
        if group is None or group in by_group or len(values) != len(L.REVIEW_COLUMNS):
            return None
        by_group[group] = values
    if set(by_group) != set(L.REVIEW_ROWS):
        return None
    return [t for g in L.REVIEW_ROWS for t in by_group[g]]


REVIEW_WORDS = ("行政复议", "行政诉讼", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "合计", "直接起诉",
                "复议后起诉", "维持", "纠正", "未审结")


def _review_tokens(rows: list[SourceRow]) -> list[Token] | None:
    """The values under table 四's header in text: from the first header row, through rows that are
    header words or bare numbers, up to the first row of other text. None if there is no header."""
    out: list[Token] | None = None
    for row in rows:
        header = bool(row.segments) and all(any(w in normalise(seg) for w in REVIEW_WORDS) for seg in row.segments)
        if out is None:
            if header or "行政复议" in normalise(row.context):
                out = []
            else:
                continue
        elif row.segments and not header and out:
            break
        out.extend(t for t in row.tokens if t.kind != "empty")
    return out


def _review_ok(values: list[int]) -> bool:
    return all(sum(values[i:i + 4]) == values[i + 4] for i in (0, 5, 10))


def _review_positional(tokens: list[Token], res: TableResult) -> None:
    names = [f"{g}.{c}" for g, c in REVIEW_CELLS]
    f = fit([Token(t.raw, t.kind, None, t.recovered) for t in tokens], names, None, _review_ok)
    if f.values is None:
        res.warnings.append(f"table 四: {f.problem}; its cells were left out")
        return
    if f.problem:
        res.warnings.append(f"table 四: {f.problem}")
    for name, v in f.values.items():
        g, c = name.split(".")
        res.cells.append(cell("review_litigation", g, c, v, L.REVIEW_LABELS[g]))


def _covering(row: list, width: int) -> list[str]:
    """For each column, the text of the header cell over it in this row: a merged cell covers the
    positions after it that are None (pdfplumber gives no spans, so None is filled from the left)."""
    out: list[str] = []
    current = ""
    for j in range(width):
        c = row[j] if j < len(row) else None
        if c is not None:
            current = c.text
        out.append(current)
    return out


def _review_columns(grid: Grid) -> dict[int, tuple[str, str]]:
    """Column -> (group, column) from the header rows above the first row of numbers."""
    width = max((len(r) for r in grid), default=0)
    headers = []
    for row in grid:
        if any(c is not None and c.text and c.text.replace(".", "").isdigit() for c in row):
            break
        headers.append(_covering(row, width))
    rank = [g for g, _ in L.REVIEW_GROUPS]
    out: dict[int, tuple[str, str]] = {}
    for j in range(width):
        groups = [g for h in headers if (g := find_header(L.REVIEW_GROUPS, h[j]))]
        leaves = [leaf for h in headers if (leaf := find_header(L.REVIEW_HEADERS, h[j]))]
        if groups and leaves:
            out[j] = (min(groups, key=rank.index), leaves[-1])
    return out if len(set(out.values())) == len(out) else {}


# -- table 二 ---------------------------------------------------------------------------------------

def is_active_grid(grid: Grid) -> bool:
    text = normalise("".join(c.text for row in grid for c in row if c))
    return "信息内容" in text or ("规章" in text and ("规范性文件" in text or "行政许可" in text))


def read_active(grids: list[Grid], text: str, template: str) -> TableResult:
    specs = L.ACTIVE_ROWS["2019" if template == "2019" else "2021"]
    mine = [g for g in grids if is_active_grid(g)]
    if mine:
        res = _active(rows_from_grid([r for g in mine for r in g]), specs)
        res.source = "grid"
        if res.cells:
            return res
    res = _active(rows_from_text(text), specs)
    res.source = "text"
    return res


def _active(rows: list[SourceRow], specs: Sequence[L.RowSpec]) -> TableResult:
    """Table 二 restates its header before each block (第二十条第（一）项 …), so the columns in force are
    the last header seen; without one, the template's columns for that row."""
    res = TableResult()
    known = {c for s in specs for c in s.columns}
    header: list[str] = []
    done: set[str] = set()
    for row in rows:
        cols = [c for seg in row.segments if (c := find_header(L.ACTIVE_HEADERS, seg))]
        if cols and not any(t.kind == "number" for t in row.tokens):
            header = cols
            continue
        candidates = [s for s in specs if s.id not in done]
        spec = next((s for s in candidates if key_match(s, normalise(row.own))), None) or \
            next((s for s in candidates if key_match(s, normalise(row.context))), None)
        if spec is None or not row.tokens:
            continue
        res.found = True
        columns = tuple(header) if len(header) == len(spec.columns) and set(header) <= known else spec.columns
        f = fit([t for t in row.tokens if t.kind != "empty"], columns, None, None,
                money=L.MONEY_COLUMNS, signed=L.SIGNED_COLUMNS)
        if f.values is None:
            res.warnings.append(f"table 二 row {spec.id} ({row.own[:20]}): {f.problem}; its cells were left out")
            continue
        done.add(spec.id)
        for col in columns:
            if col in f.values:
                res.cells.append(cell("active", spec.id, col, f.values[col], row.own or spec.label))
    return res
