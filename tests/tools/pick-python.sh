#!/usr/bin/env bash
# pick-python.sh: print the path of the newest CPython 3.12+ on this machine that can make a
# venv (python3.1x in PATH, then pyenv's versions); ansible-core's newest releases need 3.12+
# on the controller. Without one, print python3 and warn: the venv then gets an older ansible-core.
set -uo pipefail
candidates=()
for v in 3.15 3.14 3.13 3.12; do
  command -v "python$v" >/dev/null 2>&1 && candidates+=("python$v")
done
for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin/python3; do
  [ -x "$p" ] && candidates+=("$p")
done
best="" best_key=0
for c in "${candidates[@]}"; do
  # key = major*1000+minor (must have venv + ensurepip); prints the interpreter's real path
  out=$("$c" -c 'import sys, venv, ensurepip; print(sys.version_info[0] * 1000 + sys.version_info[1], sys.executable)' 2>/dev/null) || continue
  key=${out%% *} exe=${out#* }
  if [ "$key" -ge 3012 ] && [ "$key" -gt "$best_key" ]; then best_key=$key best=$exe; fi
done
if [ -z "$best" ]; then
  echo "pick-python: no Python 3.12+ found; using python3 (older ansible-core)" >&2
  best=$(command -v python3)
fi
echo "$best"
