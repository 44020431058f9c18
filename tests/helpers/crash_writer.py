"""Child process for the crash tests: archives a fixed list of captures, printing as it goes."""

from __future__ import annotations

import random
import sys
from pathlib import Path

# Run as a script by tests/test_crash.py: the folder holding the `helpers` package goes on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive import Archive
from helpers.captures import http_capture
from spiders.demo import DOCUMENTS


def items() -> list[tuple[str, bytes, str]]:
    """Large and small bodies, some repeated under other URLs, in a fixed order."""
    rng = random.Random(7)
    out = []
    for n in range(6):
        big = rng.randbytes(6 * 1024 * 1024)
        out.append((f"http://127.0.0.2/big/{n}.pdf", b"%PDF-1.4\n" + big, "application/pdf"))
        page, pdf = (DOCUMENTS / f"report{n % 5}.html").read_bytes(), (DOCUMENTS / f"report{n % 5}.pdf").read_bytes()
        out.append((f"http://127.0.0.2/page/{n}.html", page, "text/html"))
        out.append((f"http://127.0.0.2/att/{n}.pdf", pdf, "application/pdf"))
        out.append((f"http://127.0.0.3/mirror/{n}.pdf", pdf, "application/pdf"))
    return out


def main() -> None:
    archive_dir = Path(sys.argv[1])
    with Archive.open(archive_dir) as a, a.writer(batch_size=3, batch_seconds=0.2) as w:
        print("ready", flush=True)
        for url, body, ctype in items():
            w.add(http_capture(url, body, content_type=ctype, gzip_it=ctype == "text/html"))
            print("added", url, flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
