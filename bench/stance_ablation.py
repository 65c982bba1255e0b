"""What each stance lexicon entry, group, scope and mechanism carries.

Scores the suggested stance on every relevant item of a split (title and
summary sentences, as ``suggest_stance`` reads them; no sweep), first with
the whole lexicon, then without each scope, each mechanism, each cue group
and, with ``--entries``, each cue. Prints the accuracy on items labelled
kept or broken and over all three classes, and each ablation's change in
points: a negative change means the entry earns its place. Run on the dev
split to see the effect of a change before making it; the test split is
measured, not tuned on.

Usage: .venv/bin/python bench/stance_ablation.py [--split dev|test] [--entries] [--top N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pledgewatch.matching import stance
from tests.evaluation import StanceFigures, StanceItem, eval_sets, stance_items, stance_score


def measure(items: list[StanceItem], lex: stance.Lexicon) -> StanceFigures:
    return stance_score(items, lambda p, t, s: stance.suggest_stance(p, t, s, lex).label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    parser.add_argument("--entries", action="store_true", help="ablate every cue too")
    parser.add_argument("--top", type=int, default=0, help="show only the N largest changes")
    args = parser.parse_args(argv)
    items = [
        i for s in eval_sets(args.split) if not s.name.startswith("legacy") for i in stance_items(s)
    ]
    lex = stance.lexicon()
    started = time.perf_counter()
    base = measure(items, lex)
    print(
        f"{args.split}: {base.items} relevant items; whole lexicon ({lex.cue_count()} cues): "
        f"kept/broken {base.stance:.3f}, three classes {base.stance_all:.3f}, "
        f"neutral recall {base.neutral_recall:.3f}"
    )
    trials: list[tuple[str, stance.Lexicon]] = []
    trials += [(f"scope {name}", lex.without(name)) for name in lex.scopes]
    trials += [(f"mechanism {name}", lex.without(name)) for name in stance.MECHANISMS]
    trials += [(f"group {g.name}", lex.without_group(g.name)) for g in lex.groups]
    if args.entries:
        trials += [
            (f"cue {g.name}: {c.text}", lex.without_cue(g.name, c.text))
            for g in lex.groups
            for c in g.cues
        ]
    rows = []
    for name, trial in trials:
        figures = measure(items, trial)
        rows.append(
            (
                name,
                100 * (figures.stance - base.stance),
                100 * (figures.stance_all - base.stance_all),
            )
        )
    if args.top:
        rows = sorted(rows, key=lambda r: -max(abs(r[1]), abs(r[2])))[: args.top]
    print(f"{'without':<48} {'kept/broken':>12} {'3 classes':>10}  (change in points)")
    for name, directed, overall in rows:
        print(f"{name:<48} {directed:>+12.1f} {overall:>+10.1f}")
    print(f"({len(trials) + 1} runs in {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
