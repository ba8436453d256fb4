"""Building and closing the long-lived collaborators (store, engine, Slack gateway, HTTP)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from bot.concurrency import AdaptiveLimit
from bot.config import Settings
from bot.engines.base import Engine
from bot.engines.choice import open_engine
from bot.governance import Governance, Prices
from bot.services import Services
from bot.slack.client import build_web_client
from bot.slack.file_hosts import FileHostPolicy
from bot.slack.gateway import SlackGateway
from storage import open_store


@asynccontextmanager
async def open_services(
    settings: Settings, *, engine: Engine | None = None
) -> AsyncIterator[Services]:
    """Open everything one bot process needs; closes it all on exit."""
    settings.require("slack_bot_token", *settings.engine_requirements())
    assert settings.slack_bot_token is not None
    token = settings.slack_bot_token.reveal()
    prices = Prices.for_settings(settings)  # a bad INSIGHTBOT_PRICES file stops the start
    store = await open_store(settings.db_path)
    own_engine = engine is None
    # The local engine has its own cap (kernels); the limit adapts to the OpenAI engine's.
    run_limit = AdaptiveLimit(ceiling=settings.max_concurrent_runs)
    try:
        the_engine = (
            engine
            if engine is not None
            else await open_engine(settings, history=store, rate=run_limit, inventory=store)
        )
    except BaseException:
        await store.close()
        raise
    workdir = Path(tempfile.mkdtemp(prefix="insightbot-"))
    http = aiohttp.ClientSession()
    client = build_web_client(token=token, base_url=settings.slack_api_url, session=http)
    governance = Governance(settings=settings, store=store, prices=prices)
    prices.knows(governance.default_model)  # loads the price data now, not in the first turn
    try:
        yield Services(
            settings=settings,
            store=store,
            engine=the_engine,
            slack=SlackGateway(client=client, bot_token=token),
            http=http,
            workdir=workdir,
            bot_token=token,
            file_hosts=FileHostPolicy.from_settings(settings),
            run_limit=run_limit,
            governance=governance,
        )
    finally:
        await http.close()
        if own_engine:
            await the_engine.aclose()
        await store.close()
        shutil.rmtree(workdir, ignore_errors=True)
