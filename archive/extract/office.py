"""DOC and WPS: LibreOffice headless converts them to DOCX, many files per call, then the DOCX reader.

Start-up is most of LibreOffice's cost (about 1 s, then about 0.2 s a file), so :func:`to_docx` takes a
batch. Each process uses its own profile directory (two soffice processes sharing one collide), and a
batch that hangs is killed with its whole process group at the time limit.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from archive.errors import ExtractionError

TIMEOUT_BASE = 60  # seconds for a batch, plus TIMEOUT_PER_FILE for each file in it
TIMEOUT_PER_FILE = 20
_profile: Path | None = None


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _profile_dir() -> Path:
    """A LibreOffice profile for this process only, kept for its lifetime (creating one costs ~1 s)."""
    global _profile
    if _profile is None or not _profile.exists():
        _profile = Path(tempfile.mkdtemp(prefix=f"nianbao-lo-profile-{os.getpid()}-"))
        atexit.register(shutil.rmtree, _profile, True)
    return _profile


def to_docx(items: list[tuple[bytes, str]]) -> list[bytes | ExtractionError]:
    """Convert (data, kind) pairs, kind "doc" or "wps", to DOCX bytes; a failure is returned in place."""
    exe = soffice()
    if exe is None:
        err = ExtractionError("reading DOC and WPS needs LibreOffice (`soffice`), which is not installed; "
                              "install libreoffice-writer-nogui")
        return [err for _ in items]
    if not items:
        return []
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        src, out = Path(tmp, "in"), Path(tmp, "out")
        src.mkdir()
        out.mkdir()
        names = []
        for i, (data, kind) in enumerate(items):
            p = src / f"{i:05d}.{kind if kind in ('doc', 'wps') else 'doc'}"
            p.write_bytes(data)
            names.append(p)
        cmd = [exe, f"-env:UserInstallation={_profile_dir().as_uri()}", "--headless", "--norestore", "--nologo",
               "--nodefault", "--nolockcheck", "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(out),
               *map(str, names)]
        limit = TIMEOUT_BASE + TIMEOUT_PER_FILE * len(items)
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                                env={**os.environ, "HOME": str(_profile_dir())})
        try:
            _, stderr = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            err = ExtractionError(f"LibreOffice did not finish converting {len(items)} file(s) in {limit} s")
            return [err for _ in items]
        results: list[bytes | ExtractionError] = []
        for p in names:
            converted = out / (p.stem + ".docx")
            if converted.exists() and converted.stat().st_size > 0:
                results.append(converted.read_bytes())
            else:
                why = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
                results.append(ExtractionError(f"LibreOffice could not convert this {p.suffix[1:].upper()} "
                                               f"file ({why[0][:200]})"))
        return results
