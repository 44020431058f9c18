#!/usr/bin/env bash
# Install everything, then harvest the five simulated demo portals into ./nianbao-demo and show the archive.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install.sh
exec .venv/bin/nianbao demo "$@"
