"""`python -m app.seed load|check`: the one way every user loads the curated seed.

`python -m app.seed draft READOUT` drafts a seed file from a readout in plain text, and
`python -m app.seed score READOUT` scores that draft against the curated seed (see app.seed.draft).
"""

import argparse
import sys
from pathlib import Path

from app.db import ensure_sqlite_folder, make_engine
from app.seed.draft import main as draft_main
from app.seed.load import load
from app.seed.verify import SeedError, read_seed
from app.settings import get_settings

DRAFT_COMMANDS = ("draft", "score")


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] and args_in[0] in DRAFT_COMMANDS:
        return draft_main(args_in)
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m app.seed", description=__doc__)
    parser.add_argument(
        "command", choices=["load", "check"], help="load: migrate and load; check: verify only"
    )
    parser.add_argument("--seed", type=Path, default=settings.seed_dir, help="seed folder")
    parser.add_argument("--database-url", default=settings.database_url)
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            seed = read_seed(args.seed)
            print(f"seed ok: {args.seed} ({seed.checksum[:12]})")
            return 0
        ensure_sqlite_folder(args.database_url)
        result = load(make_engine(args.database_url), args.seed)
    except SeedError as exc:
        print(exc.report("seed"), file=sys.stderr)
        return 1
    state = "loaded" if result.changed else "already loaded, nothing changed"
    print(f"dataset version {result.version}: {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
