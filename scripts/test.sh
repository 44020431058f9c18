#!/usr/bin/env bash
# Install everything, then run the linter and the whole test suite. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
