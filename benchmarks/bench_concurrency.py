"""Benchmark 4: many threads at once, with a slow engine.

Every thread is a top-level message mentioning the bot with its own small CSV, delivered as
``app_mention`` and ``message`` (as Slack does), all at once, over ``CHANNELS`` channels. The
fake engine takes ``ENGINE_S`` per run; the concurrent-run limit is raised to the number of
threads. Wall = first delivery → the bot has finished every turn. Lost = a thread without an
answer; duplicated = a thread with more than one. RSS is the bot process's own (the fakes
run in the driver process, the load generator in a third one).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.machine import (
    MB,
    RssSampler,
    cpu_seconds,
    peak_rss_bytes,
    rss_bytes,
    thread_cpu_seconds,
)
from benchmarks.processes import AppProcess, LoadGenerator
from benchmarks.report import Section, below, info, percentile
from benchmarks.world import SMALL_CSV, answers_in, bot_env, fakes, mention

ENGINE_S = 3.0
MARKER = "rows, total"


@dataclass(frozen=True)
class ConcurrencyConfig:
    threads: int = 500
    channels: int = 50
    # False: the bot's own default limit (the "many people" run); True: raised to ``threads``.
    limit_to_threads: bool = True
    title: str = "4. Concurrency"
    wall_target_s: float = 4.5


async def run_concurrency(
    config: ConcurrencyConfig, *, workdir: Path, profile_dir: Path | None = None
) -> Section:
    section = Section(config.title)
    started = time.perf_counter()
    async with fakes() as (slack, openai):
        openai.run_delay_s = ENGINE_S
        tmp = Path(tempfile.mkdtemp(dir=workdir, prefix="concurrency-"))
        limit = {"INSIGHTBOT_MAX_CONCURRENT_RUNS": str(config.threads)}
        env = bot_env(
            slack, openai, tmp / "insightbot.db", **(limit if config.limit_to_threads else {})
        )
        profile = profile_dir / "concurrency-bot.prof" if profile_dir else None
        app = await AppProcess.start("bot", env=env, log_path=tmp / "bot.log", profile_path=profile)
        load = await LoadGenerator.start(log_path=tmp / "loadgen.log")
        sampler = RssSampler(app.pid, interval_s=0.05)
        try:
            # One turn first, so that the figures are a running server's, not a cold start's
            # (first imports, Bolt's first auth.test, the SDKs' first model schemas).
            warm = slack.add_file(name="warm-up.csv", content=SMALL_CSV)
            warm_message = mention(slack, channel="CWARM", text="<@UBOT> total?", files=[warm])
            await load.burst(app.events_url, list(warm_message.deliveries))
            await app.wait_idle()
            calls_before = len(slack.calls)
            idle_rss = rss_bytes(app.pid)
            messages = []
            for i in range(config.threads):
                file = slack.add_file(name=f"sales-{i}.csv", content=SMALL_CSV)
                messages.append(
                    mention(
                        slack,
                        channel=f"C{i % config.channels:04d}",
                        text="<@UBOT> what is the total amount?",
                        files=[file],
                        user=f"UL{i:05d}",  # each thread its own person, as real load looks
                    )
                )
            requests = [d for m in messages for d in m.deliveries]
            sampler.start()
            bot_cpu = cpu_seconds(app.pid)
            threads_before = thread_cpu_seconds(app.pid)
            driver_cpu = time.process_time()
            deliveries = await load.burst(app.events_url, requests)
            await app.wait_idle()
            finished = time.time()
            bot_cpu = cpu_seconds(app.pid) - bot_cpu
            threads_after = thread_cpu_seconds(app.pid)
            driver_cpu = time.process_time() - driver_cpu
            await sampler.stop()
            peak = peak_rss_bytes(app.pid)
            errors = app.errors_logged()
        finally:
            await load.stop()
            await app.stop()
        counts = [answers_in(slack, m, MARKER) for m in messages]
        first_sent = min(d.sent_at for d in deliveries)
        last_call = max(c.time for c in slack.calls[calls_before:])
        runs = len(openai.requests_to("POST", "/v1/responses")) - 1
    wall = finished - first_sent
    lost = sum(1 for c in counts if c == 0)
    duplicated = sum(1 for c in counts if c > 1)
    acks = [d.seconds for d in deliveries]
    section.figures += [
        below("wall", wall, config.wall_target_s, "s"),
        below("lost", lost, 1, ""),
        below("duplicated", duplicated, 1, ""),
        below("peak RSS, bot process", peak / MB, 300, "MB"),
        info("ack p99 in this burst", percentile(acks, 99) * 1000, "ms"),
    ]
    section.notes += [
        f"{config.threads} threads over {config.channels} channels, {len(requests)} deliveries "
        f"at once (app_mention + message each), engine run {ENGINE_S:g} s, "
        f"INSIGHTBOT_MAX_CONCURRENT_RUNS="
        f"{config.threads if config.limit_to_threads else 'default'}; engine runs started: {runs}; "
        f"non-200 acks: {sum(1 for d in deliveries if d.status != 200)}; slowest ack "
        f"{max(acks) * 1000:.0f} ms; bot ERROR log lines: {len(errors)}.",
        f"wall {wall:.2f} s = {ENGINE_S:g} s engine + {wall - ENGINE_S:.2f} s; last Slack call "
        f"{last_call - first_sent:.2f} s after the first delivery.",
        f"CPU during the burst: bot process {bot_cpu:.2f} s, fakes (driver process) "
        f"{driver_cpu:.2f} s, on {wall:.2f} s of wall time; bot CPU by thread: "
        + ", ".join(
            f"{name} {threads_after[name] - threads_before.get(name, 0.0):.2f} s"
            for name in sorted(threads_after)
            if threads_after[name] - threads_before.get(name, 0.0) >= 0.01
        )
        + ".",
        f"bot RSS: {idle_rss / MB:.0f} MB idle before the burst, peak {peak / MB:.0f} MB "
        f"(kernel high-water mark; sampled every 50 ms: {sampler.peak / MB:.0f} MB).",
    ]
    section.seconds = time.perf_counter() - started
    return section
