"""Benchmarks 1 and 2: acknowledgement latency and the first visible sign, under a burst.

Each user message mentions the bot in a channel, with a small CSV, and is delivered twice as
Slack does (``app_mention`` and ``message``). Three apps get the same traffic, each in its
own process: ours, a bare Bolt AsyncApp that only acks (the yardstick for the ratio), and
plain aiohttp answering 200 (the floor: what the HTTP server and the load generator cost).
Rounds alternate between the apps. Fake latencies are zero.

Burst: all deliveries written at once on already-open connections. Paced: the same number
spread evenly over one second (information only: the targets apply to the burst).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.processes import AppProcess, Delivery, LoadGenerator
from benchmarks.report import Section, at_most, below, info, percentile
from benchmarks.world import SMALL_CSV, UserMessage, bot_env, fakes, mention
from tests.fakes.slack_server import FakeSlack

CHANNELS = 20
KINDS = ("floor", "bare", "bot")
FIRST_SIGN_METHODS = {
    "reactions.add": ("channel", "timestamp"),
    "assistant.threads.setStatus": ("channel_id", "thread_ts"),
}


@dataclass(frozen=True)
class AckConfig:
    events: int = 200  # deliveries per burst (two per user message)
    rounds: int = 3
    warmup_events: int = 20
    paced_over_s: float = 1.0


def burst_messages(slack: FakeSlack, *, events: int, tag: str) -> list[UserMessage]:
    out = []
    for i in range(events // 2):
        file = slack.add_file(name=f"sales-{tag}-{i}.csv", content=SMALL_CSV)
        out.append(
            mention(
                slack,
                channel=f"C{tag}{i % CHANNELS:03d}",
                text="<@UBOT> what is the total amount?",
                files=[file],
                user=f"U{tag}{i:05d}",  # each thread its own person, as real load looks
            )
        )
    return out


def first_signs(
    slack: FakeSlack, messages: list[UserMessage], deliveries: list[Delivery]
) -> list[float]:
    """Seconds from each message's first delivery to the first reaction or status for it."""
    first_call: dict[tuple[str, str], float] = {}
    for call in slack.calls:
        keys = FIRST_SIGN_METHODS.get(call.method)
        if keys is None:
            continue
        key = (str(call.args.get(keys[0])), str(call.args.get(keys[1])))
        first_call[key] = min(call.time, first_call.get(key, call.time))
    out = []
    index = 0
    for message in messages:
        sent = min(d.sent_at for d in deliveries[index : index + len(message.deliveries)])
        index += len(message.deliveries)
        seen = first_call.get((message.channel, message.ts))
        out.append(seen - sent if seen is not None else float("inf"))
    return out


@dataclass
class Samples:
    acks: list[float]
    inside: list[float]  # time inside the server's handler


async def run_ack(config: AckConfig, *, workdir: Path, profile_dir: Path | None = None) -> Section:
    section = Section("1-2. Ack and first sign")
    started = time.perf_counter()
    burst = {kind: Samples([], []) for kind in KINDS}
    paced = {kind: Samples([], []) for kind in KINDS}
    signs: list[float] = []
    statuses: list[int] = []
    async with fakes() as (slack, openai):
        tmp = Path(tempfile.mkdtemp(dir=workdir, prefix="ack-"))
        env = bot_env(slack, openai, tmp / "insightbot.db")
        profile = profile_dir / "ack-bot.prof" if profile_dir else None
        apps = {
            kind: await AppProcess.start(
                kind,
                env=env,
                log_path=tmp / f"{kind}.log",
                profile_path=profile if kind == "bot" else None,
            )
            for kind in KINDS
        }
        load = await LoadGenerator.start(log_path=tmp / "loadgen.log")

        async def deliver(
            kind: str, tag: str, spacing_s: float
        ) -> tuple[list[UserMessage], list[Delivery]]:
            app = apps[kind]
            messages = burst_messages(slack, events=config.events, tag=tag)
            requests = [d for m in messages for d in m.deliveries]
            deliveries = await load.burst(app.events_url, requests, spacing_s=spacing_s)
            await app.wait_idle()
            statuses.extend(d.status for d in deliveries)
            return messages, deliveries

        try:
            for kind, app in apps.items():  # first imports, Bolt's auth.test, connections
                warm = burst_messages(slack, events=config.warmup_events, tag=f"W{kind[:2]}")
                await load.burst(app.events_url, [d for m in warm for d in m.deliveries])
                await app.wait_idle()
                await app.handled()
            for round_no in range(config.rounds):
                for kind in KINDS:
                    messages, deliveries = await deliver(kind, f"{round_no}{kind[:2]}", 0.0)
                    burst[kind].acks += [d.seconds for d in deliveries]
                    burst[kind].inside += await apps[kind].handled()
                    if kind == "bot":
                        signs += first_signs(slack, messages, deliveries)
                    p99 = percentile([d.seconds for d in deliveries], 99) * 1000
                    section.notes.append(
                        f"burst round {round_no + 1}, {kind}: ack p99 {p99:.1f} ms"
                    )
            for kind in KINDS:
                _, deliveries = await deliver(
                    kind, f"P{kind[:2]}", config.paced_over_s / config.events
                )
                paced[kind].acks += [d.seconds for d in deliveries]
                paced[kind].inside += await apps[kind].handled()
            errors = apps["bot"].errors_logged()
        finally:
            await load.stop()
            for app in apps.values():
                await app.stop()

    def ms(values: list[float], pct: float) -> float:
        return percentile(values, pct) * 1000

    bot_p99, bare_p99 = ms(burst["bot"].acks, 99), ms(burst["bare"].acks, 99)
    section.figures += [
        info("ack p50, bot", ms(burst["bot"].acks, 50), "ms"),
        below("ack p99, bot", bot_p99, 50, "ms"),
        info("ack p50, bare Bolt", ms(burst["bare"].acks, 50), "ms"),
        info("ack p99, bare Bolt", bare_p99, "ms"),
        info("ack p99, plain aiohttp", ms(burst["floor"].acks, 99), "ms"),
        at_most("ack p99 bot / bare Bolt", bot_p99 / bare_p99, 1.5, "×"),
        info("paced: ack p99, bot", ms(paced["bot"].acks, 99), "ms"),
        info("paced: ack p99, bare Bolt", ms(paced["bare"].acks, 99), "ms"),
        info("first sign p50", ms(signs, 50), "ms"),
        below("first sign p95", ms(signs, 95), 200, "ms"),
    ]
    not_ok = sum(1 for s in statuses if s != 200)
    section.notes[:0] = [
        f"{config.rounds} burst rounds × {config.events} deliveries per app ({config.events // 2} "
        f"user messages in {CHANNELS} channels, each with a CSV, each delivered as app_mention + "
        f"message), then one paced round ({config.events} over {config.paced_over_s:g} s); ack = "
        "request written until the whole answer is read, by a separate load-generator process; "
        f"{not_ok} non-200 answers; bot ERROR log lines: {len(errors)}.",
        "time inside the server's handler, p50 / p99 ms (burst): "
        + "; ".join(
            f"{kind} {ms(burst[kind].inside, 50):.1f} / {ms(burst[kind].inside, 99):.1f}"
            for kind in KINDS
        )
        + "; paced: "
        + "; ".join(
            f"{kind} {ms(paced[kind].inside, 50):.1f} / {ms(paced[kind].inside, 99):.1f}"
            for kind in KINDS
        )
        + ".",
    ]
    section.seconds = time.perf_counter() - started
    return section
