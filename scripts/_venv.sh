# Sourced by scripts/run and scripts/test: make .venv and install the project into it when needed,
# at the exact versions of constraints.txt (the ones production installs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"

# pip's own chatter is not ours to show: a machine's index settings can print a warning per package
# ("Location ... is ignored"), and setuptools warns about editable installs. -qq keeps pip's errors.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_WARN_SCRIPT_LOCATION=1

pip_install() {
  "$VENV/bin/python" -m pip install -qq -c "$ROOT/constraints.txt" "$@"
}

# ensure_venv first-run | test: the extra to install (test includes first-run).
ensure_venv() {
  local extras="$1" stamp="$VENV/.installed-$1"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PY" -m venv "$VENV"
  fi
  # Reinstall when pyproject.toml or constraints.txt changed since the last install.
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ "$ROOT/constraints.txt" -nt "$stamp" ]; then
    echo "==> installing dispatch[$extras] into $VENV (versions from constraints.txt)"
    pip_install --upgrade pip
    pip_install -e "$ROOT[$extras]"
    touch "$stamp"
  fi
}
