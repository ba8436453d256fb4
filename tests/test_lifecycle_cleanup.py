"""`insightbot cleanup` (each option, --dry-run, --json, idempotent, beside a running bot in
the same database) and `insightbot ask` leaving nothing behind at the engine."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

from bot.ask import ask
from bot.cli import main
from bot.config import load_settings
from bot.engines.openai import OpenAIEngine
from storage import open_store
from storage.records import DONE
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention
from tests.harness import Harness, harness
from tests.reliability_harness import wait_until
from tests.test_lifecycle_e2e import answered_question, at_openai

KINDS = {"file", "container", "conversation", "response"}


async def cleanup(
    h: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, Any]:
    """Run `insightbot cleanup ARGS --json` as an operator would, beside the running bot: its
    own settings from the environment, its own engine client and database connection."""
    env = {
        "OPENAI_API_KEY": h.openai.api_key,
        "OPENAI_BASE_URL": h.openai.base_url,
        "INSIGHTBOT_DB": str(h.settings.db_path),
        "INSIGHTBOT_LOG_LEVEL": "WARNING",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["cleanup", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


async def test_dry_run_lists_and_changes_nothing_then_older_than_purges_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with harness(tmp_path) as h:
        first = await answered_question(h)
        await answered_question(h)
        created = at_openai(h.openai)

        code, listed = await cleanup(h, monkeypatch, capsys, "--older-than", "0", "--dry-run")
        assert code == 0 and listed["dry_run"] is True and listed["threads"] == 2
        assert listed["would_delete"] == {
            "file": 2,
            "container": 2,
            "conversation": 2,
            "response": 2,
        }
        assert set(listed["deleted"]) == KINDS and sum(listed["deleted"].values()) == 0
        assert at_openai(h.openai) == created

        code, recent = await cleanup(h, monkeypatch, capsys, "--older-than", "30")
        assert code == 0 and recent["threads"] == 0 and at_openai(h.openai) == created

        code, done = await cleanup(h, monkeypatch, capsys, "--older-than", "0")
        assert code == 0 and done["threads"] == 2
        assert done["deleted"] == {"file": 2, "container": 2, "conversation": 2, "response": 2}
        assert not any(at_openai(h.openai).values())
        turns = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{first['ts']}")
        assert [t.question for t in turns] == [""]

        code, again = await cleanup(h, monkeypatch, capsys, "--older-than", "0")
        assert code == 0 and again["threads"] == 0 and sum(again["deleted"].values()) == 0


async def test_thread_option_purges_that_thread_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with harness(tmp_path) as h:
        first = await answered_question(h)
        before_second = at_openai(h.openai)
        second = await answered_question(h)
        code, done = await cleanup(h, monkeypatch, capsys, "--thread", f"C1/{first['ts']}")
        assert code == 0 and done["threads"] == 1
        left = at_openai(h.openai)
        assert not any(left[k] & before_second[k] for k in KINDS)
        assert all(left.values())  # the second thread keeps everything
        kept = await h.bot.services.store.thread_turns(f"T0FAKE:C1:{second['ts']}")
        assert kept[0].question == "total amount"


async def test_cleanup_beside_a_running_bot_skips_the_thread_being_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with harness(tmp_path) as h:
        idle = await answered_question(h)
        idle_objects = at_openai(h.openai)
        h.openai.run_delay_s = 2.0
        file = h.slack.add_file(name="sales.csv", content=b"region,amount\nSeoul,1\n")
        busy = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total", files=[file]
        )
        assert await h.send_event(as_app_mention(busy)) == 200
        busy_key = f"T0FAKE:C1:{busy['ts']}"
        await wait_until(lambda: len(h.openai.requests_to("POST", "/v1/responses")) == 2)

        code, done = await cleanup(h, monkeypatch, capsys, "--older-than", "0")
        assert code == 0 and done["threads"] == 1 and done["busy"] == 1
        assert not any(at_openai(h.openai)[k] & idle_objects[k] for k in KINDS)
        await h.settle()
        answered = await h.bot.services.store.thread_turns(busy_key)
        assert [t.status for t in answered] == [DONE] and answered[0].question == "total"
        assert at_openai(h.openai)["conversation"]  # the busy thread's own stays
        del idle


def _settings(fake: FakeOpenAI, tmp_path: Path) -> Any:
    return load_settings(
        {
            "OPENAI_API_KEY": fake.api_key,
            "OPENAI_BASE_URL": fake.base_url,
            "INSIGHTBOT_DB": str(tmp_path / "cli.db"),
        },
        dotenv_path=None,
    )


async def _ask(fake: FakeOpenAI, tmp_path: Path, thread: str | None) -> int:
    data = tmp_path / "sales.csv"
    data.write_bytes(b"region,amount\nSeoul,100\nBusan,200\n")
    settings = _settings(fake, tmp_path)
    store = await open_store(settings.db_path)
    engine = OpenAIEngine(settings=settings, inventory=store)
    try:
        result = await ask(
            settings=settings,
            engine=engine,
            store=store,
            paths=[data],
            question="total",
            thread_name=thread,
            out_dir=tmp_path / "out",
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    finally:
        await engine.aclose()
        await store.close()
    return result.exit_code


async def test_ask_leaves_nothing_behind_unless_a_thread_keeps_it(tmp_path: Path) -> None:
    async with FakeOpenAI() as fake:
        assert await _ask(fake, tmp_path, thread=None) == 0
        assert fake.requests_to("DELETE", "/v1/")
        assert not any(at_openai(fake).values()), at_openai(fake)

        assert await _ask(fake, tmp_path, thread="sales") == 0
        kept = at_openai(fake)
        assert all(kept.values())
        assert await _ask(fake, tmp_path, thread="sales") == 0  # the same conversation goes on
        assert at_openai(fake)["conversation"] == kept["conversation"]
