"""The portal registry: many portals registered at once from a CSV or JSONL file into the catalog's ``portals``
table, where one TOML profile per portal does not scale (a province's agencies, a country's counties).

A file has one portal a row (CSV: a header row; JSONL: one object a line), with these keys::

    name,agency,url,region,level,parent,site_id,delay,render
    ankang-xfj,安康市信访局,http://xfj.ankang.gov.cn/,陕西省安康市,市,安康市人民政府,6109000035,2.0,never

``name`` and ``url`` are required; ``url`` may hold several start URLs (a JSON list, or separated by spaces);
``level`` is one of 国 省 市 县 乡; ``site_id`` (or ``SiteIDCode``) is the portal's 网站标识码. The optional
profile keys are those of a TOML profile: ``delay concurrency render robots max_pages recheck_days hints
schedule deadline allowed_hosts`` (in a CSV cell, ``hints`` is a JSON object; ``schedule`` crontab lines
separated by ``;`` or a JSON list; ``allowed_hosts`` separated by spaces or a JSON list).

Every row is checked by building its :class:`PortalProfile`, and every error in the file is collected with its
line number; one error refuses the whole file (:class:`RegistryError`) and nothing is written. The archive
stores the checked rows in one transaction. A TOML profile (bundled, or in the archive's ``portals/``) wins over
a registry row of the same name.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from spiders.profiles import BUNDLED, LEVELS, PortalProfile, ProfileError, is_http_url, load, load_all

COLUMNS = ("name", "agency", "url", "region", "level", "parent", "site_id")
PROFILE_KEYS = ("delay", "concurrency", "render", "robots", "max_pages", "recheck_days", "hints", "schedule",
                "deadline", "allowed_hosts")
ALIASES = {"siteidcode": "site_id", "start_urls": "url", "start_url": "url", "parent_agency": "parent"}
FORMATS = ("csv", "jsonl")
FLOATS, INTS, LISTS = {"delay", "recheck_days"}, {"concurrency", "max_pages"}, {"schedule", "allowed_hosts"}
TEXTS = {"agency", "region", "level", "parent", "site_id", "render", "deadline"}
TRUE, FALSE = {"true", "yes", "1", "是", "y"}, {"false", "no", "0", "否", "n"}
# a registry name names lock files and logs (crawler/harvest.py makes a slug of it): kept to what a slug keeps,
# so two portals can never share one lock
NAME = re.compile(r"[a-z0-9](?:[a-z0-9_.-]*[a-z0-9_])?\Z")
SHOWN_ERRORS = 50
PROGRESS_EVERY = 5000


class RegistryError(ProfileError):
    """A registry file that cannot be imported: every error with its line number (line 1 is a CSV's header)."""

    def __init__(self, path: Path | str, errors: list[tuple[int, str]]) -> None:
        self.path, self.errors = str(path), sorted(errors, key=lambda e: e[0])
        shown = [f"  line {n}: {m}" if n else f"  {m}" for n, m in self.errors[:SHOWN_ERRORS]]
        more = len(self.errors) - len(shown)
        super().__init__(f"{self.path}: {len(self.errors)} error(s), nothing was imported:\n" + "\n".join(shown)
                         + (f"\n  … and {more} more error(s)" if more else ""))


# -- reading a file ------------------------------------------------------------------------------

def read(path: Path | str, *, fmt: str | None = None, progress: Callable[[int], None] | None = None) -> list[dict]:
    """The file's rows, checked, as the archive stores them; RegistryError with every error found otherwise."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise RegistryError(path, [(0, f"cannot read the file: {e.strerror or e}")]) from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # Excel's "CSV (逗号分隔)" on Chinese Windows writes GBK
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise RegistryError(path, [(0, "the file is neither UTF-8 nor GB18030 (GBK) text")]) from None
    fmt = fmt or guess_format(path, text)
    if fmt not in FORMATS:
        raise RegistryError(path, [(0, f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")])
    errors: list[tuple[int, str]] = []
    records = _csv_records(text, errors) if fmt == "csv" else _jsonl_records(text, errors)
    rows: list[dict] = []
    first_line: dict[str, int] = {}
    for n, (line, record) in enumerate(records, 1):
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
        row = check(record, line, errors)
        if row is None:
            continue
        if row["name"] in first_line:
            errors.append((line, f"the name {row['name']!r} is taken already by line {first_line[row['name']]}"))
            continue
        first_line[row["name"]] = line
        rows.append(row)
    if progress:
        progress(len(first_line))
    if not errors and not rows:
        errors.append((0, "no portals in the file"))
    if errors:
        raise RegistryError(path, errors)
    return rows


def guess_format(path: Path, text: str) -> str:
    """By the extension (.csv; .jsonl, .ndjson, .json), else by the first character (``{`` is JSONL)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def _csv_records(text: str, errors: list) -> Iterator[tuple[int, dict]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        errors.append((1, f"not CSV: {e}"))
        return
    keys: list[str | None] = []
    for cell in header:
        key = cell.strip().lower().replace(" ", "_")
        key = ALIASES.get(key, key)
        if not key:
            keys.append(None)  # Excel leaves empty columns after the last one
        elif key not in COLUMNS and key not in PROFILE_KEYS:
            errors.append((1, f"unknown column {cell.strip()!r} (known: {', '.join(COLUMNS + PROFILE_KEYS)})"))
            keys.append(None)
        elif key in keys:
            errors.append((1, f"the column {key!r} is given twice"))
            keys.append(None)
        else:
            keys.append(key)
    if "name" not in keys or "url" not in keys:
        errors.append((1, "the header row must name the columns, with name and url among them"))
        return
    end = reader.line_num
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            errors.append((start, f"not CSV: {e}"))
            return
        end = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(keys) and any(c.strip() for c in cells[len(keys):]):
            errors.append((start, f"{len(cells)} cells, more than the header's {len(keys)} columns"))
            continue
        yield start, {k: c for k, c in zip(keys, cells, strict=False) if k is not None and c.strip()}


def _jsonl_records(text: str, errors: list) -> Iterator[tuple[int, dict]]:
    known = set(COLUMNS) | set(PROFILE_KEYS)
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as e:
            errors.append((line, f"not JSON: {e}"))
            continue
        if not isinstance(obj, dict):
            errors.append((line, "not a JSON object"))
            continue
        record = {}
        for key, value in obj.items():
            canon = ALIASES.get(key.lower(), key.lower())
            if canon not in known:
                errors.append((line, f"unknown key {key!r} (known: {', '.join(COLUMNS + PROFILE_KEYS)})"))
            elif value is not None and value != "":
                record[canon] = value
        yield line, record


def check(record: dict, line: int, errors: list) -> dict | None:
    """One record as the archive stores it, checked by building its profile; None (and errors) if it is wrong."""
    found: list[str] = []
    name = record.get("name")
    if not isinstance(name, str) or not name.strip():
        found.append("no name" if name is None else f"the name {name!r} is not text")
    elif not NAME.match(name := name.strip()):
        found.append(f"the name {name!r} may hold only a-z, 0-9, '-', '_' and '.' (it names the portal's files "
                     f"and locks), e.g. {'js-huaian-hongze'!r}")
    urls = _urls(record.get("url"), found)
    values: dict = {}
    for key, value in record.items():
        if key in ("name", "url"):
            continue
        try:
            values[key] = _value(key, value)
        except ValueError as e:
            found.append(f"{key}: {e}")
    # the commonest mistakes are checked one by one, so a row's errors are all said at once; the profile
    # then says the first of any others
    good = [u for u in urls if is_http_url(u)]
    if len(good) < len(urls):
        found += [f"url {u!r} is not an http(s) URL" for u in urls if u not in good]
    if values.get("level", LEVELS[0]) not in LEVELS:
        found.append(f"level must be one of {'/'.join(LEVELS)}, not {values.pop('level')!r}")
    pname = name if isinstance(name, str) else "?"
    try:
        profile = PortalProfile(name=pname, start_urls=good or ["http://x.invalid/"], **values)
    except ProfileError as e:
        found.append(str(e).removeprefix(f"portal {pname!r}: "))
    except (TypeError, ValueError) as e:
        found.append(str(e))
    if found:
        errors.extend((line, m) for m in found)
        return None
    return to_row(profile, given=set(values))


def _urls(value, found: list[str]) -> list[str]:
    if value is None:
        found.append("no url")
        return []
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except ValueError:
            found.append(f"url {value!r} is neither a URL nor a JSON list of URLs")
            return []
    urls = value.split() if isinstance(value, str) else value
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        found.append(f"url {value!r} is neither a URL nor a list of URLs")
        return []
    return urls


def _value(key: str, value):
    """A cell's text (CSV, or a string in JSONL) or a JSON value, as the profile takes it."""
    text = value.strip() if isinstance(value, str) else None
    if key in TEXTS:
        if isinstance(value, int) and not isinstance(value, bool) and key == "site_id":
            return str(value)  # a SiteIDCode written as a JSON number
        if text is None:
            raise ValueError(f"{value!r} is not text")
        return text
    if key in FLOATS:
        if text is not None:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{value!r} is not a number")
        return float(value)
    if key in INTS:
        if text is not None:
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a whole number") from None
            if not number.is_integer():
                raise ValueError(f"{text!r} is not a whole number")
            return int(number)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value  # the profile says what is wrong with it
    if key == "robots":
        if text is not None:
            if text.lower() in TRUE | FALSE:
                return text.lower() in TRUE
            raise ValueError(f"{text!r} is not true or false")
        return value
    if key == "hints":
        if text is not None:
            try:
                value = json.loads(text)
            except ValueError:
                raise ValueError(f"{text!r} is not a JSON object such as {{\"url_patterns\": [\"/nb/\"]}}") from None
        if not isinstance(value, dict):
            raise ValueError(f"{value!r} is not a JSON object such as {{\"url_patterns\": [\"/nb/\"]}}")
        return value
    if key in LISTS:
        if text is not None:
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except ValueError:
                    raise ValueError(f"{text!r} is not a JSON list") from None
            else:
                value = [p.strip() for p in (text.split(";") if key == "schedule" else re.split(r"[\s,]+", text))
                         if p.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{value!r} is not a list of text")
        return value
    raise ValueError("unknown key")  # not reached: the readers keep to COLUMNS and PROFILE_KEYS


# -- rows and profiles ---------------------------------------------------------------------------

def to_row(profile: PortalProfile, given: Iterable[str] | None = None) -> dict:
    """The registry row of a profile: its columns, and the optional keys in ``profile`` (those ``given``, or
    those differing from the defaults)."""
    if given is None:
        default = PortalProfile(name=profile.name, start_urls=profile.start_urls)
        given = [k for k in PROFILE_KEYS if getattr(profile, k) != getattr(default, k)]
    extra = {k: getattr(profile, k) for k in PROFILE_KEYS if k in set(given)}  # as held (a schedule line: a list)
    urls = profile.start_urls
    return {"name": profile.name, "agency": profile.agency,
            "url": urls[0] if len(urls) == 1 else json.dumps(urls, ensure_ascii=False),
            "region": profile.region, "level": profile.level, "parent": profile.parent, "site_id": profile.site_id,
            "profile": json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None}


def to_profile(row: dict) -> PortalProfile:
    """A stored row's profile, without checking it again: it was checked when it was imported."""
    url = row["url"]
    extra = json.loads(row["profile"]) if row.get("profile") else {}
    return PortalProfile.trusted(name=row["name"], start_urls=json.loads(url) if url.startswith("[") else [url],
                                 agency=row.get("agency"), region=row.get("region"), level=row.get("level"),
                                 parent=row.get("parent"), site_id=row.get("site_id"), **extra)


def record(row: dict) -> dict:
    """A stored row as a file holds it: the columns, ``url`` a list when there are several, the profile keys."""
    out = {k: row.get(k) for k in COLUMNS}
    if out["url"] and out["url"].startswith("["):
        out["url"] = json.loads(out["url"])
    out.update(json.loads(row["profile"]) if row.get("profile") else {})
    return {k: v for k, v in out.items() if v is not None}


def write(rows: Iterable[dict], out: TextIO, fmt: str = "csv") -> int:
    """Write stored rows as a file :func:`read` reads back to the same rows; returns how many."""
    records = [record(r) for r in rows]
    if fmt == "jsonl":
        for r in records:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
        return len(records)
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    used = {k for r in records for k in r}
    header = [*COLUMNS, *(k for k in PROFILE_KEYS if k in used)]
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for r in records:
        w.writerow([_cell(r.get(k)) for k in header])
    return len(records)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# -- the registry in an archive ------------------------------------------------------------------

def stored(archive_dir: Path | str) -> list[dict]:
    """The archive's registry rows, by name (none before it has a catalog)."""
    from archive import Archive

    if not (Path(archive_dir) / "catalog.db").exists():
        return []
    with Archive.open(archive_dir, readonly=True) as a:
        return a.registered_portals()


def registered(archive_dir: Path | str) -> dict[str, PortalProfile]:
    """The archive's registry rows as profiles."""
    return {r["name"]: to_profile(r) for r in stored(archive_dir)}


def export_rows(archive_dir: Path | str, *, everything: bool = False) -> list[dict]:
    """The registry's rows; with ``everything``, every TOML profile (bundled, own) too, in place of a registry
    row of the same name, with the keys that differ from the defaults."""
    rows = {r["name"]: r for r in stored(archive_dir)}
    if everything:
        rows.update({n: to_row(p) for n, p in load_all(Path(archive_dir) / "portals").items()})
    return [rows[n] for n in sorted(rows)]


def stamp(archive_dir: Path | str) -> tuple:
    """Changes whenever the archive's registry does."""
    from archive import Archive

    if not (Path(archive_dir) / "catalog.db").exists():
        return (0, None)
    with Archive.open(archive_dir, readonly=True) as a:
        return a.registry_stamp()


def known(archive_dir: Path | str) -> dict[str, PortalProfile]:
    """Every profile an archive can use: its registry rows, then the bundled TOML profiles, then its own TOML
    profiles, each winning over the ones before it of the same name."""
    return {**registered(archive_dir), **load_all(Path(archive_dir) / "portals")}


def import_file(archive_dir: Path | str, path: Path | str, *, replace: bool = False, fmt: str | None = None,
                progress: Callable[[int], None] | None = None) -> dict:
    """Check a registry file and store its rows in the archive, all or nothing (RegistryError lists every
    error). With ``replace`` the registry rows not in the file are removed. Returns what changed, and the
    names whose TOML profile shadows the row."""
    from archive import Archive

    rows = read(path, fmt=fmt, progress=progress)
    with Archive.open(archive_dir) as a:
        result = a.import_portals(rows, source=str(Path(path).resolve()), replace=replace)
    toml = load_all(Path(archive_dir) / "portals")
    result["rows"] = len(rows)
    result["shadowed"] = sorted(r["name"] for r in rows if r["name"] in toml)
    return result


def listing(archive_dir: Path | str) -> list[dict]:
    """Every portal with its fields and where it comes from (``origin``: own, bundled, registry), by name; a
    profile shadowed by one of the same name (a registry row by a TOML profile, a bundled profile by the
    archive's own) is listed too, with ``in_use`` false and ``shadowed_by`` the origin that wins."""
    where = Path(archive_dir)
    registry = {r["name"]: (to_profile(r), {"source": r["source"], "imported_at": r["imported_at"]})
                for r in stored(where)}
    tiers = [("own", _toml(where / "portals")), ("bundled", _toml(BUNDLED)), ("registry", registry)]
    ids = _agency_ids(where, {p.agency for _, tier in tiers for p, _ in tier.values()})
    out = []
    for name in sorted({n for _, tier in tiers for n in tier}):
        winner = next(origin for origin, tier in tiers if name in tier)
        for origin, tier in tiers:
            if name in tier:
                profile, where_from = tier[name]
                out.append({**asdict(profile), "agency_id": ids.get(profile.agency), "origin": origin, **where_from,
                             "in_use": origin == winner,
                            "shadowed_by": None if origin == winner else winner})
    return out


def _agency_ids(archive_dir: Path, names: set[str | None]) -> dict[str, str | None]:
    """Each agency's stable id: its normalised name, through the archive's aliases (merges, the registry's word)."""
    from archive import Archive
    from archive.parser import agency_key

    if not (archive_dir / "catalog.db").exists():
        return {n: agency_key(n) for n in names if n}
    with Archive.open(archive_dir, readonly=True) as a:
        return a.agency_ids(n for n in names if n)


def _toml(directory: Path) -> dict[str, tuple[PortalProfile, dict]]:
    if not directory.is_dir():
        return {}
    found = {}
    for path in sorted(directory.glob("*.toml")):
        p = load(path)
        found[p.name] = (p, {"source": str(path)})
    return found
