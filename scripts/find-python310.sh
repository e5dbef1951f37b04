#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter, looking where a user's machine offers one:
# $PYTHON310, python3.10 on PATH, pyenv, then uv. Rasa 3.6 does not run on 3.11+.
set -euo pipefail

is_310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }

candidates=()
[ -n "${PYTHON310:-}" ] && candidates+=("$PYTHON310")
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for dir in "$root"/versions/3.10.*; do
    [ -x "$dir/bin/python3.10" ] && candidates+=("$dir/bin/python3.10")
  done
fi
if command -v uv >/dev/null 2>&1; then
  found=$(uv python find 3.10 2>/dev/null || true)
  [ -n "$found" ] && candidates+=("$found")
fi

for python in "${candidates[@]}"; do
  if is_310 "$python"; then
    echo "$python"
    exit 0
  fi
done
cat >&2 <<'MSG'
Python 3.10 est introuvable : Orientation Bot en a besoin (Rasa 3.6 ne fonctionne pas avec Python 3.11 et suivants).
Installez-le, par exemple :  pyenv install 3.10.13   ou   uv python install 3.10
puis relancez la commande (ou indiquez son chemin : PYTHON310=/chemin/vers/python3.10 make run).
MSG
exit 1
