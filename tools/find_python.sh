#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter, or explain what to install and fail.
# Order: $PYTHON, python3.13/python3.12 on PATH, python3, then pyenv-installed versions
# that are not the active default.
set -u
ok() { "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }
cands=()
[ -n "${PYTHON:-}" ] && cands+=("$PYTHON")
for n in python3.14 python3.13 python3.12 python3; do
    p=$(command -v "$n" 2>/dev/null) && cands+=("$p")
done
# pyenv shims refuse versions that are not selected; ask pyenv for the real binaries.
root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null 2>&1; then root=$(pyenv root 2>/dev/null || echo "$root"); fi
for d in "$root"/versions/3.1[2-9]*; do
    [ -x "$d/bin/python3" ] && cands+=("$d/bin/python3")
done
for c in "${cands[@]}"; do
    if ok "$c"; then echo "$c"; exit 0; fi
done
cat >&2 <<MSG
darkportal needs Python 3.12 or newer (ArviZ 1.x requires it), and none was found.
Install one, for example:
    pyenv install 3.12        (then run make again; a non-default pyenv version is found by itself)
    apt-get install python3.12 python3.12-venv
or point to one explicitly:  make PYTHON=/path/to/python3.12 test
MSG
exit 1
