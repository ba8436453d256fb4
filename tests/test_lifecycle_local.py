"""Forgetting a thread with the local engine: its kernel's folder, the copies of its files
and its stored conversation go, through the same purge as with OpenAI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fakes.slack_payloads import as_app_mention
from tests.reliability_harness import ask, thread_text
from tests.test_local_engine import CSV, local_bot, remembering

pytest.importorskip("ipykernel", reason="needs the local extra: pip install -e '.[local]'")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
]


async def test_forgetting_a_thread_deletes_its_kernel_files_and_history(tmp_path: Path) -> None:
    async with local_bot(tmp_path, remembering) as (h, _chat):
        event = await ask(h, text="<@UBOT> remember the total", content=CSV)
        await h.settle(60)
        root = tmp_path / "insightbot-local"
        copies = list((root / "files").iterdir())
        homes = list((root / "kernels").iterdir())
        assert copies and homes
        key = f"T0FAKE:C1:{event['ts']}"
        thread = await h.bot.services.store.get_thread(key)
        assert thread is not None and thread.conversation_id
        conversation = thread.conversation_id
        assert await h.bot.services.store.local_history(conversation)

        forget = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> forget", thread_ts=event["ts"]
        )
        assert await h.send_event(as_app_mention(forget)) == 200
        await h.settle(60)

        assert not any(path.exists() for path in copies + homes)
        assert await h.bot.services.store.local_history(conversation) == []
        assert "I forgot this thread." in thread_text(h.slack, "C1", event["ts"])
