#!/usr/bin/env bash
# Create or update the virtual environment from requirements.lock.
# Usage: scripts/setup-venv.sh [--uv-only] VENV
set -euo pipefail
uv_only=0
if [ "${1:-}" = "--uv-only" ]; then uv_only=1; shift; fi
venv=${1:-.venv}
python=${PYTHON:-python3}
uv_version=0.13.9   # the installer; pinned here because it installs the lock itself

if ! command -v "$python" >/dev/null 2>&1; then
  echo "setup: '$python' was not found. Install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)." >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: $("$python" --version 2>&1) is too old; the course needs Python 3.11 or newer." >&2
  echo "       Run make with PYTHON=/path/to/python3.11 (or newer)." >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv"
  "$python" -m venv "$venv" || {
    echo "setup: could not create a virtual environment. On Debian: apt-get install python3-venv" >&2; exit 1; }
fi
if [ ! -x "$venv/bin/uv" ] || [ "$("$venv/bin/uv" --version | cut -d' ' -f2)" != "$uv_version" ]; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$uv_version"
fi
[ "$uv_only" = 1 ] && exit 0
echo "setup: installing the locked dependencies into $venv"
VIRTUAL_ENV="$venv" "$venv/bin/uv" pip sync --quiet --compile-bytecode --python "$venv/bin/python" requirements.lock
VIRTUAL_ENV="$venv" "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" --no-deps -e .
# jupyterlite-pyodide-kernel (the in-browser site's build tool) installs a JupyterLab extension
# that only works inside that site; desktop JupyterLab would log "Shared module
# @jupyterlite/services doesn't exist" on every page (docs/lite.md).
"$venv/bin/jupyter" labextension disable --level=sys_prefix @jupyterlite/pyodide-kernel-extension \
  >/dev/null 2>&1 || { echo "setup: could not switch off the in-browser kernel's JupyterLab extension" >&2; exit 1; }
echo "setup: $venv is ready"
