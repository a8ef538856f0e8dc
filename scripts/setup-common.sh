# Shared by scripts/run-app and scripts/test: system packages (apt-get, only what is
# missing) and the project's virtual environment in .venv. Sourced, not run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# need_debs PACKAGE...: install the Debian packages that are not installed yet.
need_debs() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "please install: ${missing[*]} (no apt-get here)"
    return 1
  fi
  say "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Qt's xcb/offscreen platforms need these shared libraries.
QT_DEBS=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
         libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
         libxcb-render-util0 libxcb-image0)

# python_venv EXTRAS: create .venv if needed and install the project into it.
python_venv() {
  local extras="$1"
  if ! command -v python3 >/dev/null 2>&1; then need_debs python3; fi
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    say "Baton needs Python 3.11 or newer (found $(python3 --version))"
    return 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" 2>/dev/null || { need_debs python3-venv && python3 -m venv "$VENV"; }
  fi
  local stamp="$VENV/.installed$extras"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    say "installing Python packages into .venv"
    if ! "$VENV/bin/python" -m pip install -q -e "$ROOT$extras" >"$VENV/pip.log" 2>&1; then
      cat "$VENV/pip.log"
      say "installing the Python packages failed (log above)"
      return 1
    fi
    touch "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}
