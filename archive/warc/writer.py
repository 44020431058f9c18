"""WARC/1.1 output: request + response records (revisit for a repeated payload), gzip per record, rolled files.

Records are built with warcio and written as one gzip member each, so pywb and replayweb.page can
replay them and `warcio check` verifies them. Digests are SHA-256 (``sha256:<base32>``), the payload
digest taken over the entity body as received (content coding kept, transfer coding removed).

Crash safety: the catalog records, per file, the size up to which records were fsynced *and*
committed. A writer holds an exclusive flock on its open file; :func:`recover` truncates files of
dead writers back to their committed size, so a kill -9 mid-record leaves no torn record behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders

from archive.capture import Capture, Headers, RedirectHop, iso, utcnow
from archive.store.body import CHUNK, Body
from archive.store.durability import fsync_path
from archive.warc.gzipmember import GzipMember

WARC_VERSION = "WARC/1.1"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
DEFAULT_MAX_SIZE = 1_000_000_000  # WARC/1.1 Annex C recommends about 1 GB per file
# Level 1: the blob store keeps the canonical copy; level 6 made report pages only 7 % smaller here at
# twice the time. Records without a payload (requests, redirects, revisits) are tiny and are stored:
# setting up a deflate stream costs more than the bytes it would save.
DEFLATE_LEVEL = 1
ORIG_PREFIX = "X-Archive-Orig-"  # pywb's convention for a header kept but no longer true of the body
UNCOMMITTED = "uncommitted"  # warc/uncommitted/: files a crashed writer left before the catalog named them


def digest_str(raw: bytes) -> str:
    """A SHA-256 digest as we write it in WARC headers: ``sha256:`` and lower-case hex.

    Hex (base16, RFC 3548) rather than base32: it is what the catalog and Browsertrix use, so a
    digest can be looked up as is, and warcio, pywb and ``warcio check`` read both.
    """
    return "sha256:" + raw.hex()


def hex_to_digest(sha256_hex: str) -> str:
    return "sha256:" + sha256_hex


def warc_date(dt: datetime) -> str:
    """WARC/1.1 date, UTC with microseconds: the catalog's own time format, so revisits match it."""
    return iso(dt if dt.tzinfo else dt.replace(tzinfo=UTC))


@dataclass(frozen=True)
class WarcRef:
    """Where a record landed."""

    file: str
    offset: int
    length: int
    record_id: str
    record_type: str
    payload_digest: str | None


@dataclass
class WarcFileState:
    name: str
    size: int
    records: int
    closed: bool
    created_at: str


@dataclass(frozen=True)
class Revisit:
    """The earlier response a repeated payload refers to."""

    uri: str
    date: str  # WARC-Date of the original
    profile: str = PROFILE_IDENTICAL


def honest_headers(headers: Headers, payload_len: int, decoded: bool) -> Headers:
    """Headers as received, except those the stored payload no longer matches.

    The body reaches us with transfer coding removed, and with content coding removed too when
    ``decoded``. Such headers are kept under ``X-Archive-Orig-`` (what pywb writes) and a true
    Content-Length is set, instead of pretending the bytes are what went over the wire.
    """
    out: Headers = []
    for k, v in headers:
        lk = k.lower()
        if lk == "transfer-encoding" or (decoded and lk == "content-encoding") or lk == "content-length":
            if lk != "content-length" or v.strip() != str(payload_len):
                out.append((ORIG_PREFIX + k, v))
            continue
        out.append((k, v))
    out.append(("Content-Length", str(payload_len)))
    return out


def response_http_headers(cap: Capture) -> StatusAndHeaders:
    payload = cap.raw_body or cap.body
    headers = honest_headers(cap.headers, payload.size, decoded=cap.raw_body is None)
    return StatusAndHeaders(f"{cap.status} {cap.status_reason}", headers, protocol=cap.protocol)


def request_http_headers(url: str, method: str, headers: Headers, protocol: str) -> StatusAndHeaders:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    hdrs = list(headers)
    if not any(k.lower() == "host" for k, _ in hdrs):
        hdrs.insert(0, ("Host", parts.netloc))
    return StatusAndHeaders(f"{method} {target} {protocol}", hdrs, protocol="", is_http_request=True)


def headers_bytes(http: StatusAndHeaders) -> bytes:
    http.compute_headers_buffer(None)
    return http.headers_buff


@dataclass(frozen=True)
class Digests:
    payload_hex: str
    block: str

    @property
    def payload(self) -> str:
        return hex_to_digest(self.payload_hex)


PARALLEL_HASH_MIN = 1 << 20
_hash_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nianbao-hash")


def _sha256(payload: Body, prefix: bytes = b""):
    h = hashlib.sha256(prefix)
    for chunk in payload.chunks(CHUNK):
        h.update(chunk)
    return h


def hash_payload(payload: Body, block_prefix: bytes) -> Digests:
    """SHA-256 of the payload and of the record block (HTTP headers + payload).

    Large payloads are hashed twice at once on two threads (hashlib releases the GIL), so the
    block digest costs no extra wall time.
    """
    if payload.size >= PARALLEL_HASH_MIN:
        pending = _hash_pool.submit(_sha256, payload)
        hb = _sha256(payload, block_prefix)
        hp = pending.result()
    else:
        hp = hashlib.sha256()
        hb = hashlib.sha256(block_prefix)
        for chunk in payload.chunks(CHUNK):
            hp.update(chunk)
            hb.update(chunk)
    return Digests(hp.hexdigest(), digest_str(hb.digest()))


class WarcWriter:
    """Appends records to ``directory/<prefix>-<time>-<serial>-<pid>-<host>.warc.gz``, rolling at a size.

    Record headers are written directly rather than through warcio's record builder, which costs
    about 0.25 ms a record, more than the rest of archiving a small page; warcio still serialises the
    HTTP headers, and every file is read back and digest-checked by warcio in the tests.
    """

    def __init__(self, directory: Path, *, prefix: str = "nianbao", max_size: int = DEFAULT_MAX_SIZE,
                 software: str = "nianbao", operator: str | None = None, durable: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_size = max_size
        self.software = software
        self.operator = operator
        self.durable = durable
        self._fh: BinaryIO | None = None
        self._state: WarcFileState | None = None
        self._serial = 0
        self._touched: dict[str, WarcFileState] = {}

    # -- files ----------------------------------------------------------------------------------
    def _new_name(self) -> str:
        self._serial += 1
        stamp = utcnow().strftime("%Y%m%d%H%M%S%f")
        host = socket.gethostname().replace("-", "") or "host"
        return f"{self.prefix}-{stamp}-{self._serial:05d}-{os.getpid()}-{host}.warc.gz"

    def _open_new(self) -> None:
        self._close_current()
        name = self._new_name()
        fh = open(self.directory / name, "xb")  # noqa: SIM115 - held open while the file is written
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._fh = fh
        self._state = WarcFileState(name, 0, 0, False, utcnow().isoformat())
        self._touched[name] = self._state
        info = {"software": self.software, "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "hostname": socket.gethostname()}
        if self.operator:
            info["operator"] = self.operator
        fields = "".join(f"{k}: {_clean(v)}\r\n" for k, v in info.items()).encode("utf-8")
        self._record("warcinfo", None, [("WARC-Date", iso(utcnow())), ("WARC-Filename", name)], fields, None,
                     "application/warc-fields", level=0)
        if self.durable:
            # The file's name must be durable before the catalog commits a row naming it.
            self.flush()
            fsync_path(self.directory)

    def _close_current(self) -> None:
        if self._fh is not None:
            self.flush()
            self._state.closed = True  # type: ignore[union-attr]
            self._touched[self._state.name] = self._state  # type: ignore[union-attr]
            self._fh.close()
            self._fh = None
            self._state = None

    def _ensure_file(self) -> None:
        if self._fh is None or (self._state and self._state.size >= self.max_size):
            self._open_new()

    def _record(self, rtype: str, uri: str | None, headers: list[tuple[str, str]], block_head: bytes,
                payload: Body | None, content_type: str | None, level: int = DEFLATE_LEVEL) -> WarcRef:
        """Write one record as one gzip member; ``headers`` follow Type, Record-ID (and Target-URI)."""
        assert self._fh is not None and self._state is not None
        rid = f"<urn:uuid:{uuid.uuid4()}>"
        lines = [WARC_VERSION, f"WARC-Type: {rtype}", f"WARC-Record-ID: {rid}"]
        for k, v in headers:
            lines.append(f"{k}: {_clean(v)}")
            if k == "WARC-Date" and uri is not None:
                lines.append(f"WARC-Target-URI: {_clean(uri)}")
        length = len(block_head) + (payload.size if payload is not None else 0)
        if content_type and length:
            lines.append(f"Content-Type: {content_type}")
        lines.append(f"Content-Length: {length}")
        offset = self._state.size
        member = GzipMember(self._fh, level=level)
        member.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        member.write(block_head)
        if payload is not None:
            for chunk in payload.chunks(CHUNK):
                member.write(chunk)
        member.write(b"\r\n\r\n")
        member.flush()
        end = self._fh.tell()
        self._state.size = end
        self._state.records += 1
        self._touched[self._state.name] = self._state
        payload_digest = next((v for k, v in headers if k == "WARC-Payload-Digest"), None)
        return WarcRef(self._state.name, offset, end - offset, rid, rtype, payload_digest)

    def flush(self, sync: bool = True) -> None:
        """Push written records to the OS, and to disk unless ``sync`` is False (the caller syncs)."""
        if self._fh is not None:
            self._fh.flush()
            if self.durable and sync:
                os.fsync(self._fh.fileno())

    def current_path(self) -> Path | None:
        return self.directory / self._state.name if self._state is not None else None

    def drain_states(self) -> list[WarcFileState]:
        """Files written or closed since the last call, for the catalog to record."""
        out = list(self._touched.values())
        self._touched = {}
        if self._state is not None:
            self._touched[self._state.name] = self._state
        return out

    def close(self) -> None:
        self._close_current()

    # -- records --------------------------------------------------------------------------------
    @staticmethod
    def _common(cap: Capture) -> list[tuple[str, str]]:
        h = [("WARC-Date", warc_date(cap.fetched_at))]
        if cap.ip_address:
            h.append(("WARC-IP-Address", cap.ip_address))
        return h

    def _request(self, url: str, cap: Capture, concurrent_to: str) -> None:
        hb = headers_bytes(request_http_headers(url, cap.method, cap.request_headers, cap.protocol))
        body = cap.request_body
        self._record("request", url, [
            ("WARC-Date", warc_date(cap.fetched_at)), ("WARC-Concurrent-To", concurrent_to),
            ("WARC-Payload-Digest", digest_str(hashlib.sha256(body).digest())),
            ("WARC-Block-Digest", digest_str(hashlib.sha256(hb + body).digest()))],
            hb, Body(data=body) if body else None, "application/http; msgtype=request", level=0)

    def _hop(self, hop: RedirectHop, cap: Capture) -> None:
        http = StatusAndHeaders(f"{hop.status} {_phrase(hop.status)}",
                                honest_headers(hop.headers, 0, decoded=True), protocol=cap.protocol)
        hb = headers_bytes(http)
        ref = self._record("response", hop.url, [
            *self._common(cap), ("WARC-Payload-Digest", digest_str(hashlib.sha256().digest())),
            ("WARC-Block-Digest", digest_str(hashlib.sha256(hb).digest()))],
            hb, None, "application/http; msgtype=response", level=0)
        self._request(hop.url, cap, ref.record_id)

    def write_response(self, cap: Capture, http: StatusAndHeaders, digests: Digests,
                       revisit: Revisit | None = None) -> WarcRef:
        """Redirect hops, then the response (or a revisit), then its request; returns the response's place."""
        self._ensure_file()
        for hop in cap.redirects:
            self._hop(hop, cap)
        uri = cap.final_url or cap.url
        hb = headers_bytes(http)
        if revisit is not None:
            ref = self._record("revisit", uri, [
                *self._common(cap), ("WARC-Profile", revisit.profile),
                ("WARC-Refers-To-Target-URI", revisit.uri), ("WARC-Refers-To-Date", revisit.date),
                ("WARC-Payload-Digest", digests.payload),
                ("WARC-Block-Digest", digest_str(hashlib.sha256(hb).digest()))],
                hb, None, "application/http; msgtype=response", level=0)
        else:
            payload = cap.raw_body or cap.body
            ref = self._record("response", uri, [
                *self._common(cap), ("WARC-Payload-Digest", digests.payload), ("WARC-Block-Digest", digests.block)],
                hb, payload, "application/http; msgtype=response", level=DEFLATE_LEVEL if payload.compressible else 0)
        self._request(uri, cap, ref.record_id)
        return ref

    def write_not_modified(self, cap: Capture, http: StatusAndHeaders, revisit: Revisit | None) -> WarcRef:
        """A 304 answer: a server-not-modified revisit of the last capture (or the bare 304 if none), after
        the redirects that led to it."""
        self._ensure_file()
        for hop in cap.redirects:
            self._hop(hop, cap)
        uri = cap.final_url or cap.url
        hb = headers_bytes(http)
        block = ("WARC-Block-Digest", digest_str(hashlib.sha256(hb).digest()))
        if revisit is not None:
            ref = self._record("revisit", uri, [
                *self._common(cap), ("WARC-Profile", PROFILE_NOT_MODIFIED),
                ("WARC-Refers-To-Target-URI", revisit.uri), ("WARC-Refers-To-Date", revisit.date), block],
                hb, None, "application/http; msgtype=response", level=0)
        else:
            ref = self._record("response", uri, [
                *self._common(cap), ("WARC-Payload-Digest", digest_str(hashlib.sha256().digest())), block],
                hb, None, "application/http; msgtype=response", level=0)
        self._request(uri, cap, ref.record_id)
        return ref

    def write_revisit_resource(self, cap: Capture, digest: str, revisit: Revisit) -> WarcRef:
        """A local file whose bytes were archived before: a revisit with no block."""
        self._ensure_file()
        return self._record("revisit", cap.url, [
            *self._common(cap), ("WARC-Profile", PROFILE_IDENTICAL), ("WARC-Refers-To-Target-URI", revisit.uri),
            ("WARC-Refers-To-Date", revisit.date), ("WARC-Payload-Digest", digest)], b"", None, None, level=0)

    def write_metadata(self, uri: str, refers_to: str, block: bytes, content_type: str, date: str, *,
                       follow: bool = False) -> WarcRef:
        """A ``metadata`` record about an earlier record (what a worker parsed from a response); ``follow``
        keeps it in the file of the record just written, even when that file is full."""
        if not (follow and self._fh is not None):
            self._ensure_file()
        return self._record("metadata", uri, [
            ("WARC-Date", date), ("WARC-Refers-To", refers_to),
            ("WARC-Block-Digest", digest_str(hashlib.sha256(block).digest()))], block, None, content_type)

    def write_resource(self, cap: Capture, sha256_hex: str, content_type: str) -> WarcRef:
        """A local file archived as a ``resource`` record (there was no HTTP exchange)."""
        self._ensure_file()
        digest = hex_to_digest(sha256_hex)
        return self._record("resource", cap.url, [
            *self._common(cap), ("WARC-Payload-Digest", digest), ("WARC-Block-Digest", digest)],
            b"", cap.body, content_type, level=DEFLATE_LEVEL if cap.body.compressible else 0)


def _clean(value: str) -> str:
    """A header value on one line: a URL with CR/LF in it must not forge WARC headers."""
    return value.replace("\r", "%0D").replace("\n", "%0A")


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def locked(path: Path) -> bool:
    """Whether a live writer holds this WARC file."""
    with open(path, "rb") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def recover(directory: Path, open_files: dict[str, int], known: set[str]) -> dict[str, str]:
    """Cut dead writers' files back to what the catalog committed; drop files it never knew.

    ``open_files`` maps files the catalog holds as still open to their committed size; ``known`` is
    every file name the catalog holds. Files locked by a live writer are left alone. Returns what
    was done per file, for the log; the caller marks the files closed.
    """
    actions: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.warc.gz")):
        if path.name in known and path.name not in open_files:
            continue  # closed and committed long ago
        if locked(path):
            continue
        if path.name not in known:
            # Created, but the crash came before the catalog named it: it holds nothing committed (unless the
            # catalog was replaced meanwhile), so it is moved aside, not deleted, and `nianbao verify` lists it.
            aside = Path(directory) / UNCOMMITTED
            aside.mkdir(exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.replace(path, aside / path.name)
            actions[path.name] = f"moved to {UNCOMMITTED}/ (never committed)"
            continue
        size, want = path.stat().st_size, open_files[path.name]
        if size > want:
            with open(path, "r+b") as fh:
                fh.truncate(want)
                fh.flush()
                os.fsync(fh.fileno())
            actions[path.name] = f"truncated {size - want} uncommitted bytes"
        else:
            actions[path.name] = "closed"
    return actions
