"""Run the benchmarks and print the table: ``python -m benchmarks.run [--quick]``.

    --quick           smaller sizes for a smoke run (under a minute)
    --only NAMES      comma-separated subset: ack, overhead, concurrency, people, large-file, storage
    --profile DIR     run the bot processes under cProfile and keep the stats in DIR
    --json PATH       also write every figure as JSON
    --keep            keep the working directory (app logs, databases) and print its path

Exit status 0 whatever the verdicts (1 with --strict when a target is missed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

from benchmarks.bench_ack import AckConfig, run_ack
from benchmarks.bench_concurrency import ConcurrencyConfig, run_concurrency
from benchmarks.bench_large_file import LargeFileConfig, run_large_file
from benchmarks.bench_overhead import OverheadConfig, run_overhead
from benchmarks.bench_storage import StorageConfig, run_storage
from benchmarks.machine import MB, machine_line
from benchmarks.report import Section, table

NAMES = ("ack", "overhead", "concurrency", "people", "large-file", "storage")
Runner = Callable[[Path, Path | None], Awaitable[Section]]


def runners(*, quick: bool) -> dict[str, Runner]:
    ack = AckConfig(events=100, rounds=1, warmup_events=10) if quick else AckConfig()
    overhead = OverheadConfig(turns=5, warmup_turns=1) if quick else OverheadConfig()
    threads = ConcurrencyConfig(threads=50, channels=10) if quick else ConcurrencyConfig()
    # 100 people asking at once with the default limit: nobody queues behind an idle engine.
    people = ConcurrencyConfig(
        threads=100, channels=20, limit_to_threads=False, title="5. Many people", wall_target_s=4.5
    )
    # Above 64 MB, so that the quick run goes through the Uploads API too.
    large = LargeFileConfig(size_bytes=80 * MB, baseline_runs=1) if quick else LargeFileConfig()
    storage = StorageConfig(turns=500, lookups=500) if quick else StorageConfig()
    return {
        "ack": lambda w, p: run_ack(ack, workdir=w, profile_dir=p),
        "overhead": lambda w, p: run_overhead(overhead, workdir=w, profile_dir=p),
        "concurrency": lambda w, p: run_concurrency(threads, workdir=w, profile_dir=p),
        "people": lambda w, p: run_concurrency(people, workdir=w, profile_dir=p),
        "large-file": lambda w, p: run_large_file(large, workdir=w, profile_dir=p),
        "storage": lambda w, _p: run_storage(storage, workdir=w),
    }


def mode_line(*, quick: bool) -> str:
    if quick:
        return (
            "quick (smoke run: 100-delivery burst, 5 turns, 50 threads, 80 MB file, 500 "
            "turns; the documented figures come from the full run)"
        )
    return (
        "full (200-delivery bursts × 3 rounds, 20 turns of 1 MB + chart, 500 threads over 50 "
        "channels, 500 MB file, 10,000 turns)"
    )


async def run_all(
    chosen: list[str], *, quick: bool, workdir: Path, profile_dir: Path | None
) -> list[Section]:
    sections: list[Section] = []
    available = runners(quick=quick)
    for name in chosen:
        print(f"running {name} …", file=sys.stderr, flush=True)
        sections.append(await available[name](workdir, profile_dir))
    return sections


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description="insightbot benchmarks"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(NAMES)}")
    parser.add_argument("--profile", metavar="DIR", help="cProfile the bot processes into DIR")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep logs and databases")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    chosen = [n.strip() for n in args.only.split(",")] if args.only else list(NAMES)
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    profile_dir = Path(args.profile).resolve() if args.profile else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="insightbot-bench-"))
    started = time.perf_counter()
    try:
        sections = asyncio.run(
            run_all(chosen, quick=args.quick, workdir=workdir, profile_dir=profile_dir)
        )
    finally:
        if args.keep:
            print(f"working directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(table(sections, machine=machine_line(), mode=mode_line(quick=args.quick)))
    print(f"\nTotal time: {elapsed:.1f} s")
    if args.json:
        report = {
            "machine": machine_line(),
            "quick": args.quick,
            "seconds": elapsed,
            "sections": [asdict(s) for s in sections],
        }
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    missed = any(s.missed for s in sections)
    return 1 if (missed and args.strict) else 0


if __name__ == "__main__":
    sys.exit(main())
