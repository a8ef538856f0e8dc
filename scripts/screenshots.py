"""Screenshots of every panel, as a person sees them: the app on a virtual screen (Xvfb),
driven with real keys (xdotool), captured whole (ImageMagick's import).

    .venv/bin/python scripts/screenshots.py [--size 1366x768] [--theme light|dark] [--out DIR]

Needs xvfb, xdotool and imagemagick (apt-get install xvfb xdotool imagemagick). It starts
Baton on a fresh demo database of its own, so nothing of yours is touched. Look at every
picture it writes before putting it in docs/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PANELS = ["inbox", "records", "designer", "runs", "work-items", "dashboards", "admin"]


def run(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(args, env=env, capture_output=True, text=True, check=False).stdout


def main_window(env: dict[str, str], timeout: float = 60.0) -> str:
    """The id of Baton's main window (the largest window named Baton), once it is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        best, area = "", 0
        for wid in run("xdotool", "search", "--name", "^Baton$", env=env).split():
            geometry = run("xdotool", "getwindowgeometry", wid, env=env)
            for line in geometry.splitlines():
                if "Geometry:" in line:
                    w, h = (int(x) for x in line.split()[-1].split("x"))
                    if w * h > area:
                        best, area = wid, w * h
        if area > 400 * 300:
            return best
        time.sleep(0.5)
    raise SystemExit("Baton's window did not appear")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1366x768")
    parser.add_argument("--theme", choices=["light", "dark"], default="light")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--display", default=":97")
    parser.add_argument("--as", dest="person", help="sign in as this demo person (e.g. alice)")
    parser.add_argument("--only", nargs="*", help="only these panels (e.g. inbox records)")
    args = parser.parse_args()
    for tool in ("Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install xvfb xdotool imagemagick", file=sys.stderr)
            return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="baton-shots-"))
    config = home / "config" / "baton"
    config.mkdir(parents=True)
    (config / "desktop.ini").write_text(f"[General]\ntheme={args.theme}\n")
    env = {
        **os.environ,
        "DISPLAY": args.display,
        "QT_QPA_PLATFORM": "xcb",
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "BATON_LINK_SERVER": f"baton-shots-{os.getpid()}",
    }
    if args.person:  # the demo, owned by that person: the app starts signed in as them
        db = home / "data" / "baton" / "baton.sqlite3"
        db.parent.mkdir(parents=True)
        baton = str(ROOT / ".venv" / "bin" / "baton")
        subprocess.run([baton, "--db", str(db), "demo"], env=env, check=True, capture_output=True)
        subprocess.run(
            [baton, "--db", str(db), "users", "owner", args.person],
            env=env,
            check=True,
            capture_output=True,
        )
    screen = subprocess.Popen(
        ["Xvfb", args.display, "-screen", "0", f"{args.size}x24"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = None
    try:
        time.sleep(1)
        app = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "baton")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        window = main_window(env)
        time.sleep(4)  # the demo's first loads
        suffix = f"-{args.theme}" if args.theme == "dark" else ""
        if args.person:
            suffix = f"-{args.person}{suffix}"
        for number, name in enumerate(PANELS, start=1):
            if args.only and name not in args.only:
                continue
            run("xdotool", "windowfocus", window, env=env)
            run("xdotool", "key", f"ctrl+{number}", env=env)
            time.sleep(4)
            shot = out / f"panel-{name}{suffix}.png"
            run("import", "-window", "root", str(shot), env=env)
            print(shot)
        run("xdotool", "windowfocus", window, env=env)
        run("xdotool", "key", "ctrl+shift+r", env=env)
        time.sleep(3)
        shot = out / f"start-run{suffix}.png"
        run("import", "-window", "root", str(shot), env=env)
        print(shot)
    finally:
        if app is not None:
            app.terminate()
            app.wait(timeout=30)
        screen.terminate()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
