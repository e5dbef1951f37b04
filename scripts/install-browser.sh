#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests when it is missing (no test tool downloads a browser).
set -euo pipefail
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "[browser] Chromium est absent ($CHROMIUM) : installez le paquet Debian « chromium » (sudo apt-get install chromium)," >&2
  echo "          ou indiquez son chemin avec CHROMIUM=/chemin/vers/chromium." >&2
  exit 1
fi
echo "[browser] installation de Chromium (paquets Debian chromium et chromium-driver)…"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
"$CHROMIUM" --version
