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

# Debian packages the app needs at run time (fonts for printed signs) or the tests need (poppler-utils):
# installed when missing, as root; otherwise a warning naming the command to run.
debian_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's ${missing[*]} …" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; } \
      || echo "warning: could not install ${missing[*]} (apt-get install ${missing[*]})." >&2
  else
    echo "warning: missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})." >&2
  fi
}
# The fonts printed signs use (shelfcall/printing/fonts.py finds them by path).
PRINTING_FONTS=(fonts-dejavu-core fonts-nanum)
