"""Fixtures many test files share: the fake servers (started on 127.0.0.1, stopped after the
test), SDK clients pointed at them, and the sample files most tests analyse."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from openai import AsyncOpenAI
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.samples import KOREAN_SALES_CSV, SALES_CSV


@pytest.fixture
async def openai_fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def openai_client(openai_fake: FakeOpenAI) -> AsyncIterator[AsyncOpenAI]:
    """The real SDK against the fake, without its own retries (the tests count requests)."""
    sdk = AsyncOpenAI(base_url=openai_fake.base_url, api_key=openai_fake.api_key, max_retries=0)
    yield sdk
    await sdk.close()


@pytest.fixture
async def slack_fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
def slack_client(slack_fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack_fake.bot_token, base_url=slack_fake.api_url)


@pytest.fixture
def sales_csv() -> bytes:
    return SALES_CSV


@pytest.fixture
def korean_sales_csv() -> bytes:
    return KOREAN_SALES_CSV
