"""The collaborators one turn needs, built once at start and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.concurrency import AdaptiveLimit
from bot.config import Settings
from bot.engines.base import Engine
from bot.governance import Governance
from bot.slack.file_hosts import FileHostPolicy
from bot.slack.gateway import SlackGateway
from storage import Store


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    engine: Engine
    slack: SlackGateway
    http: aiohttp.ClientSession  # for file downloads from Slack
    workdir: Path  # temporary files live here while they travel to the engine
    bot_token: str
    file_hosts: FileHostPolicy  # where bot_token may be sent for file downloads
    run_limit: AdaptiveLimit  # engine runs at once: INSIGHTBOT_MAX_CONCURRENT_RUNS at most
    governance: Governance  # access, prices, budgets and per-channel settings
