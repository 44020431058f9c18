#!/usr/bin/env bash
# Install everything nianbao and its tests need, idempotently: system packages that are missing
# (Debian/Ubuntu, as root or with sudo), a virtualenv in .venv, and the project with its test tools.
# Needs no network beyond the Debian and PyPI package registries. Safe to run again: it skips what is
# already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the project needs at run time or in tests:
# - libreoffice-writer-nogui converts DOC and WPS reports to DOCX (and, in the tests, generates PDFs);
# - fonts-wqy-zenhei lets those generated PDFs carry Chinese text;
# - chromium renders script-filled lists and passes anti-bot challenges (scrapy-playwright drives it);
# - redis-server is the broker of distributed harvests (the tests start their own on loopback).
APT_PACKAGES=(python3-venv libreoffice-writer-nogui fonts-wqy-zenhei chromium redis-server)

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    # A python3 with a working venv module (pyenv, python.org builds) needs no python3-venv.
    if [[ $p == python3-venv ]] && python3 -c 'import venv, ensurepip' 2>/dev/null; then continue; fi
    have_pkg "$p" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    echo "installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "nianbao needs Python 3.11 or newer")'
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv

# Reinstall only when the project's dependencies changed.
stamp=.venv/.nianbao-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]] || ! .venv/bin/python -c 'import archive, crawler' 2>/dev/null; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  echo "$want" > "$stamp"
fi

# No Debian chromium (another OS, or apt-get missing): Playwright's own download is the normal path.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
    && ! compgen -G "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}/chromium*" >/dev/null; then
  .venv/bin/python -m playwright install chromium \
    || echo "warning: no Chromium; script-rendered lists and anti-bot challenges will be reported as blocked" >&2
fi
