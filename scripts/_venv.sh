# Sourced by the run-* scripts: create (or reuse) .venv and install the project into it.
# Usage: _venv_install EXTRAS   (e.g. "" or "dev")
set -euo pipefail
_venv_install() {
  local extras="$1"
  local py="${PYTHON:-python3}"
  if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "llmassert needs Python >= 3.10 (set PYTHON=/path/to/python3.x)" >&2
    exit 2
  fi
  if [ ! -x .venv/bin/python ]; then
    "$py" -m venv .venv
  fi
  local spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
}
