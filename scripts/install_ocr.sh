#!/usr/bin/env bash
# Scanned PDF pages are read by Debian's Tesseract with its English, French and Spanish data
# (ingest/ocr.py). Installs them when missing; a no-op when they are there.
set -euo pipefail
have_all() {
    command -v tesseract >/dev/null || return 1
    local langs
    langs="$(tesseract --list-langs 2>/dev/null)" || return 1
    for lang in eng fra spa; do
        grep -qx "$lang" <<<"$langs" || return 1
    done
}
if have_all; then
    exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing tesseract-ocr with English, French and Spanish data for scanned PDFs (apt-get)" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-spa >/dev/null
