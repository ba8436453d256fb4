"""The OpenAI engine's side of the lifecycle, against the fake: every object it creates is
inventoried with its thread and turn, uploads expire, and deletions say truthfully whether
they happened."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import openai
import pytest

from bot.config import Secret, Settings
from bot.engines.objects import EngineObject, ObjectKind, Outcome, Owner
from bot.engines.openai import OpenAIEngine, Timing
from bot.engines.openai.uploads import DIRECT_LIMIT, upload_path
from bot.files import inspect_file, sha256_of
from bot.types import Finished, LocalFile
from tests.fakes.openai_server import FakeOpenAI

DAY = 24 * 3600
FAST = Timing(backoff_s=0.01, max_wait_s=2.0)


class Inventory:
    def __init__(self) -> None:
        self.objects: list[EngineObject] = []

    async def record_engine_object(self, obj: EngineObject) -> None:
        self.objects.append(obj)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def engine_for(
    fake: FakeOpenAI, inventory: Inventory | None = None, **changes: object
) -> OpenAIEngine:
    settings = replace(
        Settings(openai_api_key=Secret(fake.api_key), openai_base_url=fake.base_url),
        **changes,  # type: ignore[arg-type]
    )
    return OpenAIEngine(settings=settings, timing=FAST, inventory=inventory)


def local_file(tmp_path: Path, name: str = "sales.csv") -> LocalFile:
    path = tmp_path / name
    path.write_text("region,amount\nSeoul,100\nBusan,200\n")
    return LocalFile(
        key=f"slack-{name}",
        name=name,
        path=path,
        size=path.stat().st_size,
        sha256=sha256_of(path),
        facts=inspect_file(path, name=name),
    )


async def test_every_object_the_engine_creates_is_inventoried_with_its_thread_and_turn(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    inventory = Inventory()
    engine = engine_for(fake, inventory)
    owner = Owner(thread_key="T1:C1:1.0", turn_id="turn-1")
    try:
        uploaded = await engine.upload_file(local_file(tmp_path), owner=owner)
        session = await engine.prepare_session(
            session=None, files=[uploaded], label="T1:C1:1.0", owner=owner
        )
        fake.expire_container(session.container_id or "")  # the run must renew it
        events = [
            e
            async for e in engine.run(
                session=session,
                question="total",
                files=[uploaded],
                history=[],
                turn_id="turn-1",
                out_dir=tmp_path,
                owner=owner,
            )
        ]
    finally:
        await engine.aclose()
    assert isinstance(events[-1], Finished)
    recorded = {(o.kind, o.object_id) for o in inventory.objects}
    at_openai = (
        {(ObjectKind.FILE, f) for f in fake.files}
        | {(ObjectKind.CONTAINER, c) for c in fake.containers}
        | {(ObjectKind.CONVERSATION, c) for c in fake.conversations}
        | {(ObjectKind.RESPONSE, r) for r in fake.responses}
    )
    assert recorded == at_openai
    assert len(fake.containers) == 2  # the renewed one too
    assert all(o.thread_key == "T1:C1:1.0" and o.turn_id == "turn-1" for o in inventory.objects)
    assert all(o.created_at > 0 for o in inventory.objects)


@pytest.mark.parametrize(("days", "lifetime"), [(7, 7 * DAY), (30, 30 * DAY), (90, 30 * DAY)])
async def test_uploads_expire_at_openai_after_the_retention_period(
    fake: FakeOpenAI, tmp_path: Path, days: int, lifetime: int
) -> None:
    engine = engine_for(fake, retention_days=days)
    try:
        uploaded = await engine.upload_file(local_file(tmp_path))
    finally:
        await engine.aclose()
    stored = fake.files[uploaded.file_id]
    assert stored.expires_at == stored.created_at + lifetime


async def test_with_retention_off_uploads_stay_until_deleted(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    engine = engine_for(fake, retention_days=0)
    try:
        uploaded = await engine.upload_file(local_file(tmp_path))
    finally:
        await engine.aclose()
    assert fake.files[uploaded.file_id].expires_at is None


async def test_large_files_sent_in_parts_expire_too(fake: FakeOpenAI, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as handle:  # sparse: no time spent writing it
        handle.truncate(DIRECT_LIMIT + 1)
    client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key)
    try:
        file_id = await upload_path(
            client, path=big, upload_name="big.csv", mime_type="text/csv", expires_after_s=3 * DAY
        )
    finally:
        await client.close()
        os.unlink(big)
    stored = fake.files[file_id]
    assert stored.expires_at == stored.created_at + 3 * DAY


async def test_deletions_report_what_happened_and_never_guess(
    fake: FakeOpenAI, tmp_path: Path
) -> None:
    engine = engine_for(fake)
    owner = Owner(thread_key="T1:C1:1.0")
    try:
        uploaded = await engine.upload_file(local_file(tmp_path), owner=owner)
        session = await engine.prepare_session(session=None, files=[uploaded], label="x")
        objects = [
            EngineObject(ObjectKind.FILE, uploaded.file_id),
            EngineObject(ObjectKind.CONTAINER, session.container_id or ""),
            EngineObject(ObjectKind.CONVERSATION, session.conversation_id),
            EngineObject(ObjectKind.RESPONSE, "resp_never_existed"),
        ]
        fake.fail_next("DELETE", "/v1/containers/", status=503)
        fake.fail_next("DELETE", "/v1/conversations/", status=429, retry_after=12)
        first = await engine.forget(objects)
        second = await engine.forget(objects)
        # Nothing here is ours: only our own prefix counts as our container.
        own = await engine.own_containers()
    finally:
        await engine.aclose()
    assert [d.outcome for d in first] == [
        Outcome.DELETED,
        Outcome.PENDING,
        Outcome.PENDING,
        Outcome.GONE,
    ]
    assert first[1].detail.startswith("503") and first[2].retry_after_s == 12
    assert [d.outcome for d in second] == [
        Outcome.GONE,
        Outcome.DELETED,
        Outcome.DELETED,
        Outcome.GONE,
    ]
    assert not fake.files and not fake.conversations
    assert own == []  # the container was named "insightbot x" and is deleted now


async def test_a_deletion_that_cannot_reach_the_engine_stays_pending(tmp_path: Path) -> None:
    async with FakeOpenAI() as fake:
        engine = engine_for(fake)
    try:
        [deletion] = await engine.forget([EngineObject(ObjectKind.FILE, "file-abc")])
    finally:
        await engine.aclose()
    assert deletion.outcome is Outcome.PENDING and not deletion.done
