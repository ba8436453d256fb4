"""Benchmark 3: our own time per turn, for a 1 MB CSV and one chart.

Turns run one after another, each in a new thread with its own 1 MB CSV and a question that
asks for a chart. The fake engine takes ``ENGINE_S`` to run; fake HTTP latency is zero, and
its model is ``world.light_model`` (it never reads the bytes, so the fake's own work stays
small). End to end = from the event's delivery to the last Slack call of the turn (status
cleared, reaction removed, chart shared); own overhead = that minus the engine's time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.processes import AppProcess, LoadGenerator
from benchmarks.report import Section, below, info, percentile
from benchmarks.world import (
    TimedFakeOpenAI,
    UserMessage,
    answers_in,
    bot_env,
    csv_bytes,
    fakes,
    light_model,
    mention,
)
from tests.fakes.slack_server import FakeSlack

ENGINE_S = 0.5
MARKER = "Here is what I found"


@dataclass(frozen=True)
class OverheadConfig:
    turns: int = 20
    warmup_turns: int = 2
    csv_bytes: int = 1024 * 1024


@dataclass
class TurnTimes:
    total: float  # delivery → last Slack call
    phases: dict[str, float]


def _phases(
    slack: FakeSlack, openai: TimedFakeOpenAI, *, sent: float, acked: float, end: float
) -> dict[str, float]:
    """Where one turn's time went, from the fakes' clocks (each phase ends where the next
    starts; what our process does between the fakes' requests is inside the phases)."""
    download = min((d.time for d in slack.downloads if d.time >= sent), default=sent)
    later = [t for t in openai.timings if t.started >= sent]
    upload = [t for t in later if t.method == "POST" and t.path == "/v1/files"]
    run = [t for t in later if t.method == "POST" and t.path == "/v1/responses"]
    upload_start = upload[0].started if upload else download
    upload_end = upload[0].ended if upload else download
    run_start = run[0].started if run else upload_end
    run_end = run[0].ended if run else run_start
    return {
        "ack": acked - sent,
        "event → download starts": download - sent,
        "download + inspect + hash": upload_start - download,
        "upload to engine": upload_end - upload_start,
        "conversation + sandbox": run_start - upload_end,
        "run, minus engine time": run_end - run_start - ENGINE_S,
        "answer + chart to Slack": end - run_end,
    }


async def one_turn(
    slack: FakeSlack,
    openai: TimedFakeOpenAI,
    *,
    load: LoadGenerator,
    app: AppProcess,
    data: bytes,
    index: int,
) -> tuple[TurnTimes, UserMessage]:
    file = slack.add_file(name=f"sales-{index}.csv", content=data)
    message = mention(
        slack,
        channel=f"CO{index % 5}",
        text="<@UBOT> total amount by region as a chart",
        files=[file],
    )
    deliveries = await load.burst(app.events_url, list(message.deliveries))
    await app.wait_idle()
    sent = min(d.sent_at for d in deliveries)
    acked = sent + min(d.seconds for d in deliveries)
    end = max(c.time for c in slack.calls if c.time >= sent)
    times = TurnTimes(
        total=end - sent, phases=_phases(slack, openai, sent=sent, acked=acked, end=end)
    )
    return times, message


async def run_overhead(
    config: OverheadConfig, *, workdir: Path, profile_dir: Path | None = None
) -> Section:
    section = Section("3. Own overhead per turn")
    started = time.perf_counter()
    measured: list[TurnTimes] = []
    first_total = 0.0
    missing = 0
    async with fakes() as (slack, openai):
        openai.model = light_model
        openai.run_delay_s = ENGINE_S
        tmp = Path(tempfile.mkdtemp(dir=workdir, prefix="overhead-"))
        env = bot_env(slack, openai, tmp / "insightbot.db")
        profile = profile_dir / "overhead-bot.prof" if profile_dir else None
        app = await AppProcess.start("bot", env=env, log_path=tmp / "bot.log", profile_path=profile)
        load = await LoadGenerator.start(log_path=tmp / "loadgen.log")
        data = csv_bytes(config.csv_bytes)
        charts_before = 0
        try:
            for index in range(config.warmup_turns + config.turns):
                times, message = await one_turn(
                    slack, openai, load=load, app=app, data=data, index=index
                )
                charts = len(slack.uploads)
                ok = answers_in(slack, message, MARKER) == 1 and charts == charts_before + 1
                charts_before = charts
                if index == 0:
                    first_total = times.total
                if index >= config.warmup_turns:
                    measured.append(times)
                    missing += 0 if ok else 1
            errors = app.errors_logged()
        finally:
            await load.stop()
            await app.stop()
    overheads = [t.total - ENGINE_S for t in measured]
    section.figures += [
        info("end to end p50", percentile([t.total for t in measured], 50) * 1000, "ms"),
        below("own overhead p50", percentile(overheads, 50) * 1000, 50, "ms"),
        info("own overhead p90", percentile(overheads, 90) * 1000, "ms"),
        # The first question after a start pays for whatever the process loads lazily.
        info("first question after start", first_total * 1000, "ms"),
    ]
    breakdown = (
        ", ".join(
            f"{name} {statistics.median(t.phases[name] for t in measured) * 1000:.1f}"
            for name in measured[0].phases
        )
        if measured
        else "none"
    )
    section.notes += [
        f"{config.turns} turns one after another (after {config.warmup_turns} warm-up), each a "
        f"new thread with a {len(data) / 1e6:.2f} MB CSV and a chart; engine run "
        f"{ENGINE_S * 1000:.0f} ms, other fake latency 0; {missing} turns without exactly one "
        f"answer and one chart; bot ERROR log lines: {len(errors)}.",
        f"median ms per phase (from the fakes' clocks): {breakdown}.",
    ]
    section.seconds = time.perf_counter() - started
    return section
