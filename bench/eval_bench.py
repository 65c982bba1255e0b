"""Matching and stance quality on the evaluation sets, through a real sweep.

For each set of tests/data/eval/manifest.json in the chosen split, sweeps its
items (served as an RSS feed on loopback) into a fresh SQLite database holding
its pledges, once with the journalists' queries and once with derived ones,
and prints precision and recall of (pledge, article) pairs, stance on the
items labelled kept or broken, stance over all three classes, neutral
recall, and a line per pledge. ``--errors`` lists what was missed, found
wrongly and given the wrong stance: use it on the development split only. The
test split is measured once per change of approach and never read for errors.

Usage: .venv/bin/python bench/eval_bench.py [--split dev|test] [--set NAME] [--errors] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.evaluation import Figures, eval_sets, evaluate, summary_line


def per_pledge_lines(figures: Figures) -> list[str]:
    lines = []
    for key, row in figures.per_pledge.items():
        lines.append(
            f"    {key:<44} gold {row['gold']:>3} found {row['found']:>3} "
            f"P {row['precision']:.2f} R {row['recall']:.2f} stance {row['stance']:.2f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    parser.add_argument("--set", dest="names", action="append", help="only this set (repeatable)")
    parser.add_argument("--legacy", action="store_true", help="include the legacy dev sets")
    parser.add_argument("--errors", action="store_true", help="list errors (dev split only)")
    parser.add_argument("--per-pledge", action="store_true", help="a line per pledge")
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    args = parser.parse_args(argv)
    if args.errors and args.split == "test":
        parser.error("the test split is measured, not read for errors")
    sets = [
        s
        for s in eval_sets(args.split)
        if (args.names and s.name in args.names)
        or (not args.names and (args.legacy or not s.name.startswith("legacy")))
    ]
    if not sets:
        parser.error("no such set")
    results = {}
    for evalset in sets:
        for kind in ("written", "derived"):
            with tempfile.TemporaryDirectory() as folder:
                figures = evaluate(
                    Path(folder), evalset.pledges, evalset.items, written=kind == "written"
                )
            results[f"{evalset.name}/{kind}"] = figures
            if args.json:
                continue
            print(f"{evalset.name} ({len(evalset.pledges)} pledges, {len(evalset.items)} items)")
            print("  " + summary_line(kind, figures))
            if args.per_pledge:
                print("\n".join(per_pledge_lines(figures)))
            if args.errors:
                print("  missed:", ", ".join(figures.misses) or "none")
                print("  false:", ", ".join(figures.false) or "none")
                print("  wrong stance:", "; ".join(figures.wrong_stance) or "none")
    if args.json:
        print(json.dumps({name: asdict(f) for name, f in results.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
