"""Does an HTML page fit the window? Opens it in headless Chromium at given widths and compares the page's
scroll width with the window's (``report.html`` must not scroll sideways at 1280 px nor at 800 px).

    python scripts/check_overflow.py reports/sample/report.html               # 1280 and 800 px
    python scripts/check_overflow.py page.html --widths 1280 800 --screenshot shots/

Exit 0 when it fits at every width, 1 when it overflows, 2 when no Chromium is found.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
PROBE = ("<script>addEventListener('load',function(){document.title='VERBATIM-WIDTH '+"
         "document.documentElement.scrollWidth+' '+document.documentElement.clientWidth;});</script>")


def browser() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def page_width(html: Path, width: int, exe: str, screenshot: Path | None = None) -> tuple[int, int]:
    """``(scroll width, client width)`` of ``html`` in a window ``width`` px wide."""
    text = html.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / html.name
        probe.write_text(text.replace("</head>", PROBE + "</head>", 1) if "</head>" in text else PROBE + text,
                         encoding="utf-8")
        base = [exe, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},1000",
                "--virtual-time-budget=5000", f"--user-data-dir={tmp}/profile"]
        out = subprocess.run(base + ["--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
        if screenshot is not None:
            subprocess.run(base + [f"--screenshot={screenshot}", probe.as_uri()], capture_output=True, timeout=120)
    m = re.search(r"VERBATIM-WIDTH (\d+) (\d+)", out)
    if not m:
        raise RuntimeError(f"could not measure {html} at {width} px")
    return int(m.group(1)), int(m.group(2))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("--widths", type=int, nargs="+", default=[1280, 800])
    ap.add_argument("--screenshot", type=Path, help="folder for <name>-<width>.png screenshots")
    args = ap.parse_args(argv)
    exe = browser()
    if exe is None:
        print("no Chromium/Chrome found; install one to check the page", file=sys.stderr)
        return 2
    ok = True
    for w in args.widths:
        shot = None
        if args.screenshot:
            args.screenshot.mkdir(parents=True, exist_ok=True)
            shot = args.screenshot / f"{args.html.stem}-{w}.png"
        sw, cw = page_width(args.html, w, exe, shot)
        fits = sw <= cw
        ok &= fits
        print(f"{args.html} at {w} px: content {sw} px, window {cw} px → {'fits' if fits else 'OVERFLOWS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
