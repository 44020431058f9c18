#!/usr/bin/env bash
# Install everything, then harvest the bundled demo portal into ./nianbao-demo and show the archive.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/nianbao demo "$@"
