# Sourced by bin/demo and bin/test: make .venv with the pinned dependencies, once per pyproject change.
venv_python() {
  local root stamp want
  root="$(pwd)"
  if [ ! -x .venv/bin/python ]; then
    local py
    py="$(command -v python3.11 || command -v python3)"
    "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || {
      echo "Shelfcall needs Python 3.11 (found $("$py" --version))." >&2; exit 1; }
    echo "Creating the virtual environment in .venv …" >&2
    "$py" -m venv .venv
  fi
  stamp=.venv/.shelfcall-installed
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing Shelfcall and its dependencies …" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$root[test]"
    echo "$want" > "$stamp"
  fi
}
