"""Write docs/configuration.md from src/verbatim/config.py (``--check``: exit 1 when the file is stale).

    python scripts/config_reference.py            # rewrite docs/configuration.md
    python scripts/config_reference.py --check    # CI: is it up to date, is every option documented?
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from verbatim.config_doc import config_reference, missing_meanings, stale_meanings  # noqa: E402

TARGET = ROOT / "docs" / "configuration.md"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check; exit 1 when stale or incomplete")
    args = ap.parse_args(argv)
    problems = [f"option without a meaning (add an inline comment in config.py or an entry in "
                f"verbatim.config_doc.MEANINGS): {k}" for k in missing_meanings()]
    problems += [f"MEANINGS names no option: {k}" for k in stale_meanings()]
    text = config_reference() + "\n"
    if args.check:
        if not TARGET.is_file() or TARGET.read_text(encoding="utf-8") != text:
            problems.append(f"{TARGET.relative_to(ROOT)} is stale; run: python scripts/config_reference.py")
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
