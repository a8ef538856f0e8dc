#!/usr/bin/env bash
# Builds dist/baton/ (a one-folder bundle: run dist/baton/baton) with PyInstaller, plus the
# .desktop file and icon beside it. Run from anywhere; uses the project's .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/dist}"
"$ROOT/.venv/bin/python" -m pip install -q "pyinstaller>=6.3" >/dev/null
"$ROOT/.venv/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath "$OUT" --workpath "$OUT/.build" "$ROOT/packaging/baton.spec"
cp "$ROOT/packaging/baton.desktop" "$OUT/baton/"
cp "$ROOT/resources/icons/baton.svg" "$OUT/baton/baton.svg"
echo "built $OUT/baton/baton"
