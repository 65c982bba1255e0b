"""How long the command line makes a journalist wait: start-up, and the board, the
pledge list and the pending queue on a large newsroom's database.

    python bench/cli_bench.py                       # this checkout
    python bench/cli_bench.py --source /tmp/old     # another checkout, same venv

Prints, for each command, the wall time of one run (the best of --repeat for
start-up) and the peak memory of the process, as it runs from a shell. The
large database (--pledges, --evidence; 10,000 and 200,000 by default, one
article per evidence row) is made by the checkout's own `init`, then filled
with plain SQL inserts, so that the same data is measured on either code.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def run(source: Path, config: Path, *args: str) -> tuple[float, float, int]:
    """(seconds, peak MiB, lines of output) of one `pledgewatch` run from ``source``."""
    env = {**os.environ, "PYTHONPATH": str(source), "COLUMNS": "100"}
    code = (
        "import atexit, resource, sys\n"
        "atexit.register(lambda: sys.stderr.write("
        "f'\\n@@maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n'))\n"
        # The checkout asked for, not an editable install's finder.
        "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in repr(f)]\n"
        f"sys.path.insert(0, {str(source)!r})\n"
        "import pledgewatch\n"
        "sys.stderr.write(f'@@source {pledgewatch.__file__}\\n')\n"
        "from pledgewatch.cli import main\n"
        "sys.exit(main())"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, "--config", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    peak = int(done.stderr.rsplit("@@maxrss ", 1)[1].split()[0])
    loaded = done.stderr.split("@@source ", 1)[1].split("\n", 1)[0]
    if not loaded.startswith(str(source)):
        raise SystemExit(f"ran {loaded}, not the checkout in {source}")
    return seconds, peak / 1024, done.stdout.count("\n")


def fill(url: str, pledges: int, evidence: int) -> None:
    """Pledges (one query each), articles and pending evidence, by plain inserts."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine, only=["pledges", "articles", "evidence"])
    p_t, a_t, e_t = (meta.tables[n] for n in ("pledges", "articles", "evidence"))
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            p_t.insert(),
            [
                {
                    "text": f"The ministry will open {i} new clinics in the northern provinces",
                    "actor": f"Minister {i % 700}",
                    "made_on": date(2024, 1, 1) + timedelta(days=i % 600),
                    "source_url": f"https://news.example.org/pledge/{i}",
                    "query": f"clinics AND minister AND n{i}",
                    "query_derived": False,
                    "status": "not_yet_rated",
                    "actor_key": f"minister {i % 700}",
                    "text_key": f"the ministry will open {i} new clinics",
                    "dedupe_key": f"{i:064d}",
                    "created_at": now,
                    "created_by": "bench",
                    "updated_at": now,
                    "updated_by": "bench",
                    "deadline": date(2027, 1, 1) + timedelta(days=i % 900),
                }
                for i in range(1, pledges + 1)
            ],
        )
        body = "A long article body that a list must never read. " * 60
        for start in range(0, evidence, 20_000):
            ids = range(start + 1, min(evidence, start + 20_000) + 1)
            conn.execute(
                a_t.insert(),
                [
                    {
                        "url": f"https://news.example.org/story/{i}",
                        "title": f"Ministry opens clinics in province {i % 97}, officials say",
                        "summary": "Officials said the clinics opened on Monday.",
                        "content": body,
                        "published_at": now - timedelta(minutes=i),
                        "fetched_at": now,
                        "updated_at": now,
                        "content_hash": f"{i:064d}",
                    }
                    for i in ids
                ],
            )
            conn.execute(
                e_t.insert(),
                [
                    {
                        "pledge_id": 1 + i % pledges,
                        "article_id": i,
                        "score": 0.8,
                        "stance": ("kept", "broken", "neutral")[i % 3],
                        "stance_reason": "reports the act done",
                        "snippet": "Officials said the clinics opened on Monday.",
                        "query": "clinics",
                        "found_at": now - timedelta(minutes=i),
                        "review": "pending" if i % 4 else "confirmed",
                    }
                    for i in ids
                ],
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--pledges", type=int, default=10_000)
    parser.add_argument("--evidence", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    source = args.source.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.toml", Path(tmp) / "large.toml"
        small.write_text(f'[database]\nurl = "sqlite:///{tmp}/small.db"\n', encoding="utf-8")
        large.write_text(f'[database]\nurl = "sqlite:///{tmp}/large.db"\n', encoding="utf-8")
        for config in (small, large):
            run(source, config, "init")
        run(source, small, "pledge", "import", str(ROOT / "examples" / "pledges.csv"))
        print(f"source: {source}")
        for label, command in (("--help", ("--help",)), ("status (10 pledges)", ("status",))):
            best = min(run(source, small, *command)[0] for _ in range(args.repeat))
            print(f"  {label:<34} {best:6.3f} s (best of {args.repeat})")
        fill(f"sqlite:///{tmp}/large.db", args.pledges, args.evidence)
        print(f"  large: {args.pledges:,} pledges, {args.evidence:,} evidence rows and articles")
        for label, command in (
            ("status", ("status",)),
            ("pledge list", ("pledge", "list")),
            ("evidence list --review pending", ("evidence", "list", "--review", "pending")),
        ):
            seconds, peak, lines = run(source, large, *command)
            print(f"  {label:<34} {seconds:6.2f} s  {peak:7.0f} MiB peak  {lines:,} lines")


if __name__ == "__main__":
    main()
