"""Benchmark 5: one large CSV from Slack to the engine, through the Uploads API.

The CSV is generated on disk in a temporary directory (deleted afterwards) and served by the
fake Slack from there. The yardstick is ``baseline_copy``: a bare aiohttp client in its own
process that downloads the same file to disk and then uploads it in the same parts to the
same fake OpenAI. Both are timed on the fakes' clocks, from the download request reaching
Slack to the upload's ``complete`` answered. The bot's RSS growth is its process's peak
(kernel high-water mark, reset just before the event) minus its RSS just before.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.machine import MB, RssSampler, peak_rss_bytes, reset_peak_rss, rss_bytes
from benchmarks.processes import ROOT, AppProcess, LoadGenerator
from benchmarks.report import Section, at_least, below, info
from benchmarks.world import (
    SMALL_CSV,
    TimedFakeOpenAI,
    bot_env,
    fakes,
    light_model,
    mention,
    write_csv,
)
from bot.engines.openai.uploads import PART_SIZE
from tests.fakes.slack_server import FakeSlack


@dataclass(frozen=True)
class LargeFileConfig:
    size_bytes: int = 500 * MB
    baseline_runs: int = 2


@dataclass
class Transfer:
    seconds: float  # download request reached Slack → upload complete answered
    download_s: float  # download request → the engine upload created
    upload_s: float  # upload created → complete answered


def transfer_since(
    slack: FakeSlack, openai: TimedFakeOpenAI, *, file_id: str, since: float
) -> Transfer:
    download = min(d.time for d in slack.downloads if d.file_id == file_id and d.time >= since)
    created = min(
        t.started
        for t in openai.timed("POST", "/v1/uploads")
        if t.path == "/v1/uploads" and t.started >= since
    )
    completed = min(
        t.ended for t in openai.timed("POST", "/v1/uploads/", "/complete") if t.started >= since
    )
    return Transfer(completed - download, created - download, completed - created)


async def run_baseline(
    slack: FakeSlack, openai: TimedFakeOpenAI, *, file: dict[str, Any], workdir: Path
) -> tuple[Transfer, int]:
    job = {
        "download_url": file["url_private_download"],
        "slack_token": slack.bot_token,
        "openai_base_url": openai.base_url,
        "openai_key": openai.api_key,
        "filename": file["name"],
        "part_size": PART_SIZE,
        "workdir": str(workdir),
    }
    since = time.time()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.baseline_copy",
        json.dumps(job),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError("the baseline copy failed")
    result = json.loads(out)
    return transfer_since(slack, openai, file_id=file["id"], since=since), int(result["peak_rss"])


async def run_bot(
    slack: FakeSlack,
    openai: TimedFakeOpenAI,
    *,
    file: dict[str, Any],
    workdir: Path,
    profile_dir: Path | None,
) -> tuple[Transfer, int, int, int, bool]:
    """(transfer, RSS before, peak RSS, sampled peak, answered) for one turn on ``file``."""
    env = bot_env(slack, openai, workdir / "insightbot.db")
    profile = profile_dir / "large-file-bot.prof" if profile_dir else None
    app = await AppProcess.start("bot", env=env, log_path=workdir / "bot.log", profile_path=profile)
    load = await LoadGenerator.start(log_path=workdir / "loadgen.log")
    sampler = RssSampler(app.pid, interval_s=0.01)
    try:
        warm = mention(
            slack,
            channel="CWARM",
            text="<@UBOT> total?",
            files=[slack.add_file(name="warm-up.csv", content=SMALL_CSV)],
        )
        await load.burst(app.events_url, list(warm.deliveries))
        await app.wait_idle()
        before = rss_bytes(app.pid)
        reset_peak_rss(app.pid)
        sampler.start()
        since = time.time()
        message = mention(slack, channel="CBIG", text="<@UBOT> how many rows?", files=[file])
        await load.burst(app.events_url, list(message.deliveries))
        await app.wait_idle(timeout_s=1800)
        await sampler.stop()
        peak = peak_rss_bytes(app.pid)
    finally:
        await load.stop()
        await app.stop()
    answered = any(
        m.bot and f"{file['name']}: {file['size']} bytes" in m.text
        for m in slack.thread(message.channel, message.ts)
    )
    transfer = transfer_since(slack, openai, file_id=file["id"], since=since)
    return transfer, before, peak, sampler.peak, answered


async def run_large_file(
    config: LargeFileConfig, *, workdir: Path, profile_dir: Path | None = None
) -> Section:
    section = Section("5. Large file")
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=workdir, prefix="large-file-"))
    source = tmp / "big.csv"
    try:
        size = await asyncio.to_thread(write_csv, source, config.size_bytes)
        async with fakes() as (slack, openai):
            openai.model = light_model
            file = slack.add_file(name="big.csv", path=source)
            baselines = []
            for _ in range(config.baseline_runs):
                baselines.append(await run_baseline(slack, openai, file=file, workdir=tmp))
            parts_before = len(openai.upload_parts)
            bot, before, peak, sampled, answered = await run_bot(
                slack, openai, file=file, workdir=tmp, profile_dir=profile_dir
            )
            parts = len(openai.upload_parts) - parts_before
    finally:
        source.unlink(missing_ok=True)
    base_s = min(b[0].seconds for b in baselines)
    bot_rate = size / MB / bot.seconds
    base_rate = size / MB / base_s
    section.figures += [
        below("peak RSS growth, bot", (peak - before) / MB, 64, "MB"),
        info("throughput, bot", bot_rate, "MB/s"),
        info("throughput, plain copy", base_rate, "MB/s"),
        at_least("bot / plain copy", bot_rate / base_rate * 100, 80, "%"),
    ]
    section.notes += [
        f"{size / MB:.0f} MB CSV; bot: {bot.seconds:.2f} s = download (and inspect, hash) "
        f"{bot.download_s:.2f} s + upload {bot.upload_s:.2f} s in {parts} parts of "
        f"{PART_SIZE // MB} MB; answered in the thread: {'yes' if answered else 'NO'}.",
        "plain copy (best of "
        + f"{len(baselines)}): {base_s:.2f} s = download {min(b[0].download_s for b in baselines):.2f} s"
        + f" + upload {min(b[0].upload_s for b in baselines):.2f} s; its peak RSS "
        + f"{max(b[1] for b in baselines) / MB:.0f} MB.",
        f"bot RSS {before / MB:.0f} MB before the event, peak {peak / MB:.0f} MB (sampled every "
        f"10 ms: {sampled / MB:.0f} MB).",
    ]
    section.seconds = time.perf_counter() - started
    return section
