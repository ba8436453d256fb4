"""Benchmark 6: the store with many recorded turns: lookups per second and database size.

Fills a fresh database through the Store API the way the app does (a dedupe claim, the file
and the thread, the turn created, then finished with its answer and code), with realistic
sizes, then times the lookups a turn makes: one at a time (what one caller waits) and 100 in
flight (what the single database thread sustains). Runs in the driver process; no fakes.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.machine import MB
from benchmarks.report import Section, info
from bot.intake import message_to_json
from bot.types import IncomingMessage, SlackFile, ThreadKey
from storage import Store, open_store
from storage.records import DONE, RUNNING, FileRecord, ThreadRecord, TurnRecord

TURNS_PER_THREAD = 5
TEAM = "T0FAKE"
QUESTIONS = (
    "지역별 매출 합계를 차트로 보여줘",
    "What was the total amount per region last quarter?",
    "월별 추이를 표로 정리해줘",
    "Which product sold the most in Busan?",
)
ANSWER = (
    "Here is what I found in the files:\n| Region | Amount |\n|---|---:|\n"
    + "".join(f"| 지역{i} | {i * 1234:,} |\n" for i in range(12))
    + "서울과 부산의 매출이 전체의 절반 이상을 차지합니다. " * 12
)
CODE = (
    "import pandas as pd\n\ndf = pd.read_csv('/mnt/data/5f0c-sales.csv', encoding='cp949')\n"
    "totals = df.groupby('지역')['매출'].sum().sort_values(ascending=False)\nprint(totals)\n"
    "totals.plot.bar().figure.savefig('/mnt/data/chart.png')\n"
)


@dataclass(frozen=True)
class StorageConfig:
    turns: int = 10_000
    lookups: int = 5_000  # per kind and mode


def _message(thread: ThreadKey, ts: str, question: str, file: SlackFile) -> IncomingMessage:
    return IncomingMessage(
        thread=thread,
        ts=ts,
        user="U0123ABCD",
        text=f"<@UBOT> {question}",
        files=(file,),
        is_mention=True,
        event_id=f"Ev{uuid.uuid4().hex[:10].upper()}",
    )


async def record_thread(store: Store, index: int) -> list[str]:
    """Record one thread with TURNS_PER_THREAD finished turns; return the turn ids."""
    thread_ts = f"{1_700_000_000 + index}.{index % 1_000_000:06d}"
    thread = ThreadKey(team=TEAM, channel=f"C{index % 200:08d}", thread_ts=thread_ts)
    key = thread.as_str()
    file = SlackFile(
        id=f"F{index:010d}",
        name=f"매출-{index}.csv",
        size=1_048_576,
        mimetype="text/csv",
        filetype="csv",
        url_private_download=f"https://files.slack.com/files-pri/{TEAM}-F{index:010d}/download/sales.csv",
    )
    ids = []
    for n in range(TURNS_PER_THREAD):
        ts = thread_ts if n == 0 else f"{1_700_000_000 + index}.{n:06d}"
        message = _message(thread, ts, QUESTIONS[(index + n) % len(QUESTIONS)], file)
        await store.claim(f"msg:{TEAM}:{thread.channel}:{ts}", ttl_s=24 * 3600)
        if n == 0:
            await store.save_file(
                FileRecord(
                    thread_key=key,
                    slack_file_id=file.id,
                    name=file.name,
                    size=file.size,
                    mimetype=file.mimetype,
                    filetype=file.filetype,
                    url_private_download=file.url_private_download,
                    shared_by="U0123ABCD",
                    shared_ts=ts,
                    sha256=uuid.uuid4().hex * 2,
                    kind="csv",
                    mime_type="text/csv",
                    encoding="cp949",
                    delimiter=",",
                    engine_file_id=f"file-{uuid.uuid4().hex[:22]}",
                    upload_name=file.name,
                )
            )
            await store.save_thread(
                ThreadRecord(
                    key=key,
                    team=TEAM,
                    channel=thread.channel,
                    thread_ts=thread_ts,
                    conversation_id=f"conv_{uuid.uuid4().hex}",
                    container_id=f"cntr_{uuid.uuid4().hex}",
                    memory_limit="1g",
                    file_paths={f"file-{index}": f"/mnt/data/{uuid.uuid4().hex}-sales.csv"},
                )
            )
        turn_id = uuid.uuid4().hex[:16]
        await store.create_turn(
            TurnRecord(
                id=turn_id,
                thread_key=key,
                message_ts=ts,
                user=message.user,
                question=message.text,
                message_json=message_to_json(message),
            )
        )
        await store.update_turn(turn_id, status=RUNNING, response_id=f"resp_{uuid.uuid4().hex}")
        await store.update_turn(
            turn_id,
            status=DONE,
            answer_ts=f"{ts}1",
            answer_text=ANSWER,
            code=(CODE,),
            input_tokens=5321,
            output_tokens=812,
            last_sequence=41,
        )
        if n == 0:
            await store.mark_thread_answered(key)
        ids.append(turn_id)
    return ids


async def rate(op: Callable[[Any], Awaitable[Any]], args: list[Any], *, in_flight: int) -> float:
    """Operations per second for ``op`` over ``args``, ``in_flight`` at a time."""
    started = time.perf_counter()
    if in_flight == 1:
        for arg in args:
            await op(arg)
    else:
        queue = iter(args)

        async def worker() -> None:
            for arg in queue:
                await op(arg)

        await asyncio.gather(*(worker() for _ in range(in_flight)))
    return len(args) / (time.perf_counter() - started)


def _files_size(directory: Path, *, prefix: str) -> int:
    """Bytes in the database file and any -wal/-shm files beside it."""
    return sum(p.stat().st_size for p in directory.iterdir() if p.name.startswith(prefix))


async def run_storage(config: StorageConfig, *, workdir: Path) -> Section:
    section = Section("6. Storage")
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=workdir, prefix="storage-"))
    path = tmp / "insightbot.db"
    store = await open_store(path)
    threads = config.turns // TURNS_PER_THREAD
    fill_started = time.perf_counter()
    turn_ids: list[str] = []
    batch = 50  # threads recorded concurrently, as concurrent turns would
    for first in range(0, threads, batch):
        done = await asyncio.gather(
            *(record_thread(store, i) for i in range(first, min(first + batch, threads)))
        )
        turn_ids += [t for ids in done for t in ids]
    fill_s = time.perf_counter() - fill_started
    count = await store.count_turns()
    rng = random.Random(7)
    thread_keys = [
        f"{TEAM}:C{i % 200:08d}:{1_700_000_000 + i}.{i % 1_000_000:06d}" for i in range(threads)
    ]
    picks_turns = [rng.choice(turn_ids) for _ in range(config.lookups)]
    picks_threads = [rng.choice(thread_keys) for _ in range(config.lookups)]
    lookups = {
        "turn by id": (store.get_turn, picks_turns),
        "thread's turns (history)": (store.thread_turns, picks_threads),
        "thread record": (store.get_thread, picks_threads),
        "thread's files": (store.thread_files, picks_threads),
    }
    results: dict[str, tuple[float, float]] = {}
    for name, (op, args) in lookups.items():
        results[name] = (await rate(op, args, in_flight=1), await rate(op, args, in_flight=100))
    recovery_started = time.perf_counter()
    unfinished = await store.unfinished_turns()
    recovery_ms = (time.perf_counter() - recovery_started) * 1000
    await store.close()
    size = _files_size(tmp, prefix=path.name)
    section.figures += [
        info("turns recorded", count, ""),
        info("turn by id, one at a time", results["turn by id"][0], "/s"),
        info("turn by id, 100 in flight", results["turn by id"][1], "/s"),
        info("history, one at a time", results["thread's turns (history)"][0], "/s"),
        info("database size", size / MB, "MB"),
    ]
    section.notes += [
        f"{count} turns in {threads} threads ({TURNS_PER_THREAD} each), recorded in "
        f"{fill_s:.1f} s through the Store API ({count / fill_s:.0f} turns/s, 50 threads at "
        "once, each turn: claim, create, running, done; each thread: file, thread, answered).",
        "lookups per second, one at a time / 100 in flight: "
        + "; ".join(f"{name} {a:,.0f} / {b:,.0f}" for name, (a, b) in results.items())
        + f". Startup scan for unfinished turns: {recovery_ms:.1f} ms ({len(unfinished)} found).",
        f"database {size / MB:.1f} MB on disk after close ({size / count / 1024:.1f} KB per turn, "
        f"answers of {len(ANSWER)} characters and code of {len(CODE)}).",
    ]
    section.seconds = time.perf_counter() - started
    return section
