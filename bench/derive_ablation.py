"""What each derivation rule carries: precision and recall of derived queries without it.

Derives every pledge's query with all of ``derive.RULES``, then without each
rule in turn, and matches the queries over the items of the chosen split (the
way a sweep counts a match: title and summary, published on or after the
pledge was made; no sweep is run, so the figures differ a little from
bench/eval_bench.py's). Prints precision and recall and each ablation's change
in points: a negative change means the rule earns its place. Run it on the
development split to see the effect of a change before making it.

Usage: .venv/bin/python bench/derive_ablation.py [--split dev|test]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pledgewatch.matching import derive
from tests.evaluation import eval_sets, match_score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    args = parser.parse_args(argv)
    sets = [s for s in eval_sets(args.split) if not s.name.startswith("legacy")]
    started = time.perf_counter()

    def figures(rules: tuple[derive.Rule, ...]) -> tuple[float, float]:
        found = labelled = hits_p = hits_r = 0.0
        for evalset in sets:
            queries = {
                p["key"]: derive.derive_query(p["text"], p["actor"], rules) for p in evalset.pledges
            }
            precision, recall, n_found, n_gold = match_score(evalset, queries)
            hits_p += precision * n_found
            hits_r += recall * n_gold
            found += n_found
            labelled += n_gold
        return (hits_p / found if found else 0.0, hits_r / labelled if labelled else 0.0)

    base_p, base_r = figures(derive.RULES)
    print(
        f"{args.split}: all {len(derive.RULES)} rules: precision {base_p:.3f}, recall {base_r:.3f}"
    )
    print(f"{'without':<28} {'precision':>10} {'recall':>8}  (change in points)")
    for rule in derive.RULES:
        p, r = figures(tuple(x for x in derive.RULES if x is not rule))
        print(f"{rule.name:<28} {100 * (p - base_p):>+10.1f} {100 * (r - base_r):>+8.1f}")
    print(f"({len(derive.RULES) + 1} runs in {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
