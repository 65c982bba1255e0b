"""Matching and stance quality on the development sets of tests/data/eval, through a real sweep.

Every development set the manifest gives floors for is swept twice, with the
journalists' queries and with derived ones (see tests/evaluation.py); the
figures are printed (run with -s) and recorded in bench/RESULTS.md. The floors
are each set's first measurement less a margin, to catch a regression; they
are not the goals. The test split is not measured here: bench/eval_bench.py
measures it, once per change of approach.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evaluation import EvalSet, eval_sets, evaluate, summary_line

MEASURED = [s for s in eval_sets("dev") if s.floors]


def report(name: str, kind: str, figures: object) -> None:
    print(f"\n{name}, {summary_line(kind, figures)}")  # type: ignore[arg-type]
    print("  missed:", ", ".join(figures.misses) or "none")  # type: ignore[attr-defined]
    print("  false:", ", ".join(figures.false) or "none")  # type: ignore[attr-defined]
    print("  wrong stance:", "; ".join(figures.wrong_stance) or "none")  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["written", "derived"])
@pytest.mark.parametrize("evalset", MEASURED, ids=lambda s: s.name)
def test_matching_quality_on_the_development_sets(
    evalset: EvalSet, kind: str, tmp_path: Path
) -> None:
    figures = evaluate(tmp_path, evalset.pledges, evalset.items, written=kind == "written")
    report(evalset.name, kind, figures)
    floors = evalset.floors
    assert floors is not None
    precision_floor, recall_floor = floors[kind]
    assert figures.precision >= precision_floor
    assert figures.recall >= recall_floor
    assert figures.stance >= floors["stance"]
