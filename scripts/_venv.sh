# Sourced by scripts/run and scripts/test: make .venv and install the project into it when needed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

ensure_venv() {
  local extras="$1" stamp="$VENV/.installed-$1"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PY" -m venv "$VENV"
  fi
  # Reinstall when pyproject.toml changed since the last install.
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    echo "==> installing dispatch[$extras] into $VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    if [ "$extras" = "base" ]; then
      "$VENV/bin/python" -m pip install --quiet -e "$ROOT"
    else
      "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]"
    fi
    touch "$stamp"
  fi
}
