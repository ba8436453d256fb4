"""The fake Slack and fake OpenAI for a benchmark, the bot's environment, events and data.

The fakes run in the benchmark driver's process; the app under test runs in its own process
(``benchmarks.app_process``) and reaches them over loopback, so its memory and CPU figures
are its own.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.openai_model import (
    CHART_PATH,
    CHART_WORDS,
    ModelArtifact,
    ModelContext,
    ModelResult,
    TableFigures,
    bar_chart_png,
)
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention, event_callback
from tests.fakes.slack_server import FakeSlack

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Timed:
    """One request to the fake OpenAI: when its handling started and ended (wall clock)."""

    method: str
    path: str
    started: float
    ended: float


@dataclass(kw_only=True)
class TimedFakeOpenAI(FakeOpenAI):
    """The fake OpenAI, also noting when each request started and ended."""

    timings: list[Timed] = field(default_factory=list)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.time()
        try:
            return await super()._middleware(request, handler)
        finally:
            self.timings.append(Timed(request.method, request.path, started, time.time()))

    def timed(self, method: str, path_prefix: str, path_suffix: str = "") -> list[Timed]:
        return [
            t
            for t in self.timings
            if t.method == method
            and t.path.startswith(path_prefix)
            and t.path.endswith(path_suffix)
        ]


@asynccontextmanager
async def fakes() -> AsyncIterator[tuple[FakeSlack, TimedFakeOpenAI]]:
    slack, openai = FakeSlack(), TimedFakeOpenAI()
    async with slack, openai:
        yield slack, openai


def bot_env(slack: FakeSlack, openai: FakeOpenAI, db: Path, **overrides: str) -> dict[str, str]:
    """The environment of an app process pointed at the fakes (nothing inherited that could
    point it elsewhere)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "OPENAI_", "INSIGHTBOT_", "BENCH_"))
    }
    env.update(
        {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "OPENAI_API_KEY": openai.api_key,
            "OPENAI_BASE_URL": openai.base_url,
            "INSIGHTBOT_DB": str(db),
            "INSIGHTBOT_DRAIN_S": "5",
            "INSIGHTBOT_LOG_LEVEL": "INFO",
        }
    )
    env.update(overrides)
    return env


@dataclass(frozen=True)
class UserMessage:
    """A message a person posted (stored in the fake Slack) and its signed deliveries."""

    channel: str
    ts: str
    deliveries: tuple[dict[str, Any], ...]  # {"body", "headers"} for the load generator


def signed(slack: FakeSlack, event: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    body = json.dumps(event_callback(event, event_id=event_id))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **slack.sign(body),
    }
    return {"body": body, "headers": headers}


_event_ids = iter(range(1, 10**9))


def mention(
    slack: FakeSlack,
    *,
    channel: str,
    text: str,
    files: Iterable[dict[str, Any]] = (),
    user: str = "U1",
    both_events: bool = True,
) -> UserMessage:
    """A top-level channel message mentioning the bot, delivered as ``app_mention`` and (like
    Slack does for a channel the bot is in) as ``message`` too unless ``both_events`` is off."""
    event = slack.post_user_message(channel=channel, user=user, text=text, files=list(files))
    deliveries = [signed(slack, as_app_mention(event), event_id=f"EvB{next(_event_ids):09d}")]
    if both_events:
        deliveries.append(signed(slack, event, event_id=f"EvB{next(_event_ids):09d}"))
    return UserMessage(channel=channel, ts=event["ts"], deliveries=tuple(deliveries))


def answers_in(slack: FakeSlack, message: UserMessage, marker: str) -> int:
    """How many bot messages in the message's thread contain ``marker``."""
    return sum(1 for m in slack.thread(message.channel, message.ts) if m.bot and marker in m.text)


# ---------------------------------------------------------------- data

SMALL_CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"

_REGIONS = ("서울", "부산", "대구", "인천", "광주", "대전", "울산", "Seoul", "Busan", "Jeju")
_PRODUCTS = ("노트북", "모니터", "키보드", "마우스", "laptop", "monitor", "keyboard", "mouse")


def csv_block(rows: int, *, seed: int = 0) -> bytes:
    """CSV data rows (no header) shaped like a sales export: date, region, product, qty, amount."""
    out = []
    for i in range(rows):
        n = i * 7919 + seed
        day = 1 + n % 28
        out.append(
            f"2024-{1 + n % 12:02d}-{day:02d},{_REGIONS[n % len(_REGIONS)]},"
            f"{_PRODUCTS[n % len(_PRODUCTS)]},{1 + n % 9},{(n * 37) % 100000}\n"
        )
    return "".join(out).encode()


CSV_HEADER = b"date,region,product,quantity,amount\n"


def csv_bytes(size: int, *, seed: int = 0) -> bytes:
    """A CSV of about ``size`` bytes (whole rows)."""
    block = csv_block(1000, seed=seed)
    data = bytearray(CSV_HEADER)
    while len(data) + len(block) <= size:
        data += block
    rest = block[: max(0, size - len(data))]
    data += rest[: rest.rfind(b"\n") + 1]
    return bytes(data)


def write_csv(path: Path, size: int) -> int:
    """Write a CSV of about ``size`` bytes to ``path``; return its real size."""
    block = csv_block(4000)
    with path.open("wb") as out:
        out.write(CSV_HEADER)
        written = len(CSV_HEADER)
        while written + len(block) <= size:
            out.write(block)
            written += len(block)
        rest = block[: max(0, size - written)]
        rest = rest[: rest.rfind(b"\n") + 1]
        out.write(rest)
        written += len(rest)
    return written


# ---------------------------------------------------------------- a light model


def light_model(context: ModelContext) -> ModelResult:
    """A model whose own cost is negligible: it names each file and its size (read from disk
    metadata, never the bytes), adds a small table, and draws a chart when asked."""
    files = [f for f in context.files if f.source == "user"]
    sizes = [(f.name, f.disk_path.stat().st_size) for f in files]
    lines = [f"- {name}: {size} bytes" for name, size in sizes]
    table = ["| Region | Amount |", "|---|---:|"] + [
        f"| {region} | {(i + 1) * 1234:,} |" for i, region in enumerate(_REGIONS[:6])
    ]
    text = "Here is what I found in the files:\n" + "\n".join(lines) + "\n\n" + "\n".join(table)
    artifacts = []
    wants_chart = any(word in context.question.lower() for word in CHART_WORDS)
    if wants_chart:
        figures = [
            TableFigures(
                name=n, container_path="", rows=1, total=float(s), encoding="utf-8", delimiter=","
            )
            for n, s in sizes
        ]
        artifacts.append(ModelArtifact(path=CHART_PATH, data=bar_chart_png(figures)))
        text += f"\n\n[chart](sandbox:{CHART_PATH})"
    code = "import pandas as pd\n\n" + "".join(
        f"df{i} = pd.read_csv({f.container_path!r})\n" for i, f in enumerate(files)
    )
    if wants_chart:
        code += f"df0.groupby('region')['amount'].sum().plot.bar().figure.savefig({CHART_PATH!r})\n"
    return ModelResult(text=text, code=code, logs="ok", artifacts=artifacts)
