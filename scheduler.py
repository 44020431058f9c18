"""Recurring harvests with APScheduler (3.x): the scheduled-harvesting issue builds this module.

Until then ``python scheduler.py`` says so and exits with status 2, rather than pretending to run.
"""

from __future__ import annotations

import sys


def main() -> int:
    print("nianbao's scheduler is not built yet (see the scheduled-harvesting issue); "
          "run `nianbao demo` or `nianbao ingest` for now", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
