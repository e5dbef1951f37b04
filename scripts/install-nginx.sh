#!/usr/bin/env bash
# Installs Debian's nginx for the scaled-out layout (make scaleout) and its test when it is missing;
# nothing else downloads it. Idempotent: does nothing when the binary is there.
set -euo pipefail
NGINX=${NGINX:-/usr/sbin/nginx}
if [ -x "$NGINX" ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "[nginx] nginx est absent ($NGINX) : installez le paquet Debian « nginx-light » ou « nginx »" >&2
  echo "        (sudo apt-get install nginx-light), ou indiquez son chemin avec NGINX=/chemin/vers/nginx." >&2
  exit 1
fi
echo "[nginx] installation de nginx (paquet Debian nginx-light, ou nginx)…"
apt-get update -qq
# The package's own service is not needed (the layout starts nginx itself on loopback): no start at install.
if ! DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
"$NGINX" -v
