"""The local engine end to end: the real app (Bolt, slack_sdk, the openai SDK) over fake Slack
and a scripted fake Chat Completions server, driving REAL sandboxed kernels (pandas,
matplotlib). What a person sees in the thread, and what the model server received.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.chat_server import MODEL, FakeChat, Reply, Script, Turn
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_server import FakeSlack
from tests.harness import Harness, bot_over
from tests.reliability_harness import (
    ask,
    bot_messages,
    click,
    thread_text,
    wait_until,
    with_button,
)

pytest.importorskip("ipykernel", reason="needs the local extra: pip install -e '.[local]'")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed"),
]

LOCAL_KEY = "sk-local-only-7f3a"
DECOY = "xoxb-decoy-env-4242-must-not-leave"
ROOT = Path(__file__).parent.parent
CSV = "region,amount\n서울,100\n부산,250\n대구,50\n".encode()


def local_env(chat: FakeChat, **more: str) -> dict[str, str]:
    return {
        "INSIGHTBOT_ENGINE": "local",
        "INSIGHTBOT_LOCAL_BASE_URL": chat.base_url,
        "INSIGHTBOT_LOCAL_MODEL": MODEL,
        "INSIGHTBOT_LOCAL_API_KEY": LOCAL_KEY,
        "INSIGHTBOT_LOCAL_MEMORY_MB": "1024",
        "INSIGHTBOT_LOCAL_MAX_KERNELS": "2",
        "INSIGHTBOT_LOCAL_CELL_TIMEOUT_S": "60",
        "OPENAI_API_KEY": "",  # not needed by the local engine
        **more,
    }


@asynccontextmanager
async def local_bot(
    tmp_path: Path, script: Script, **more: str
) -> AsyncIterator[tuple[Harness, FakeChat]]:
    async with (
        FakeSlack() as slack,
        FakeOpenAI() as openai,
        FakeChat(script=script) as chat,
        bot_over(slack, openai, tmp_path / "insightbot.db", **local_env(chat, **more)) as h,
    ):
        yield h, chat


def _last_output(turn: Turn) -> str:
    return turn.results[-1] if turn.results else ""


def _stdout_of(result: str) -> str:
    return result.split("stdout:\n", 1)[-1].split("\n\n", 1)[0].strip()


# ---------------------------------------------------------------- analysis


ANALYSIS = """
import pandas as pd
import matplotlib.pyplot as plt
from matplotlib.font_manager import FontProperties, findfont
csv = pd.read_csv("/mnt/data/sales.csv")
xlsx = pd.read_excel("/mnt/data/targets.xlsx")
merged = csv.merge(xlsx, on="region")
fig, ax = plt.subplots()
ax.bar(merged["region"], merged["amount"])
ax.set_title("지역별 매출")
fig.savefig("/mnt/data/지역별_매출.png", dpi=80)
plt.close(fig)
print(findfont(FontProperties(family=["sans-serif"])))
print(int(merged["amount"].sum()), int(merged["target"].sum()))
"""


def analyst(turn: Turn) -> Reply:
    if not turn.results:
        return Reply(text="데이터를 읽어 볼게요.", code=ANALYSIS)
    totals = _stdout_of(turn.results[-1]).splitlines()[-1]
    amount, target = totals.split()
    return Reply(text=f"매출 합계는 {amount}, 목표 합계는 {target}입니다.")


def _xlsx() -> bytes:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"region": ["서울", "부산", "대구"], "target": [90, 300, 60]}).to_excel(
        buffer, index=False
    )
    return buffer.getvalue()


async def test_a_csv_and_an_excel_file_are_analysed_and_a_korean_chart_is_posted(
    tmp_path: Path,
) -> None:
    async with local_bot(tmp_path, analyst) as (h, chat):
        files = [
            h.slack.add_file(name="sales.csv", content=CSV),
            h.slack.add_file(
                name="targets.xlsx",
                content=_xlsx(),
                mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                filetype="xlsx",
            ),
        ]
        event = await ask(h, text="<@UBOT> 지역별 매출과 목표를 비교해 줘", files=files)
        await h.settle(60)
        text = thread_text(h.slack, "C1", event["ts"])
        assert "매출 합계는 400, 목표 합계는 450입니다." in text, text
        charts = [f for m in bot_messages(h.slack, "C1", event["ts"]) for f in m.files]
        assert [c.name for c in charts] == ["지역별_매출.png"]
        assert charts[0].content.startswith(b"\x89PNG")
        # The kernel drew with the Hangul font (the model read which font matplotlib chose).
        second = chat.completions(streamed=True)[1].body["messages"]
        (result,) = [m["content"] for m in second if m["role"] == "tool"]
        assert "NanumGothic.ttf" in result and "지역별_매출.png" in result
        # The system message names each file's path; the model got the python tool.
        system = second[0]["content"]
        assert "/mnt/data/sales.csv" in system and "/mnt/data/targets.xlsx" in system
        tools = chat.completions(streamed=True)[1].body["tools"]
        assert [t["function"]["name"] for t in tools] == ["python"]
        # Usage from the stream's usage chunk is recorded for the turn.
        with sqlite3.connect(h.settings.db_path) as conn:
            tokens = conn.execute("SELECT input_tokens, output_tokens FROM turns").fetchone()
        assert tokens[0] == 240 and tokens[1] > 0


# ---------------------------------------------------------------- state


def remembering(turn: Turn) -> Reply:
    if "remember" in turn.question and not turn.results:
        return Reply(code="secret_total = 6 * 7\nprint('stored')")
    if "remember" in turn.question:
        return Reply(text="Stored it.")
    if not turn.results:
        return Reply(code="print(secret_total)")
    result = turn.results[-1]
    if "NameError" in result:
        reset = "restarted" in result or "afresh" in turn.messages[0]["content"]
        return Reply(text=f"The value is gone (reset noticed: {reset}).")
    return Reply(text=f"The value is {_stdout_of(result)}.")


async def test_variables_are_kept_between_two_questions_of_a_thread(tmp_path: Path) -> None:
    async with local_bot(tmp_path, remembering) as (h, chat):
        event = await ask(h, text="<@UBOT> remember the total", content=CSV)
        await h.settle(60)
        follow = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> what was it?", thread_ts=event["ts"]
        )
        assert await h.send_event(follow) == 200
        await h.settle(60)
        assert "The value is 42." in thread_text(h.slack, "C1", event["ts"])
        # The second question went with the first turn's messages, tool call included.
        last = chat.completions(streamed=True)[-1].body["messages"]
        assert any("secret_total = 6 * 7" in json.dumps(m) for m in last)


async def test_after_idling_the_kernel_restarts_and_the_model_is_told(tmp_path: Path) -> None:
    # 0.02 minutes: the kernel is shut down about a second after the first answer.
    async with local_bot(tmp_path, remembering, INSIGHTBOT_LOCAL_IDLE_MINUTES="0.02") as (h, chat):
        event = await ask(h, text="<@UBOT> remember the total", content=CSV)
        await h.settle(60)
        await asyncio.sleep(2.5)
        follow = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> what was it?", thread_ts=event["ts"]
        )
        assert await h.send_event(follow) == 200
        await h.settle(60)
        assert "The value is gone (reset noticed: True)." in thread_text(h.slack, "C1", event["ts"])
        last = chat.completions(streamed=True)[-1].body["messages"]
        assert "started afresh" in last[0]["content"]
        # The file is back for the fresh kernel.
        assert "/mnt/data/sales.csv" in last[0]["content"]


# ---------------------------------------------------------------- Stop and restarts

LONG_CELL = "marker = 'kept'\nimport time\nfor _ in range(600):\n    time.sleep(0.1)\n"


def long_runner(turn: Turn) -> Reply:
    if "marker" in turn.question:
        if not turn.results:
            return Reply(code="print(marker)")
        return Reply(text=f"Marker: {_stdout_of(turn.results[-1])}")
    if not turn.results:
        return Reply(code=LONG_CELL)
    return Reply(text="finished the long job")


async def _running_cell(h: Harness, chat: FakeChat, event: dict[str, Any]) -> None:
    await wait_until(
        lambda: bool(with_button(h.slack, "C1", event["ts"], "stop_turn")), within_s=30
    )
    await wait_until(lambda: len(chat.completions(streamed=True)) >= 1, within_s=30)
    await asyncio.sleep(3.0)  # the kernel starts and the cell is under way


async def test_stop_during_a_long_cell_interrupts_it_and_keeps_the_kernel(tmp_path: Path) -> None:
    async with local_bot(tmp_path, long_runner) as (h, chat):
        event = await ask(h, text="<@UBOT> run the long job", content=CSV)
        await _running_cell(h, chat, event)
        working = with_button(h.slack, "C1", event["ts"], "stop_turn")[0]
        await click(h, working, action_id="stop_turn", user="U1")
        await h.settle(30)
        text = thread_text(h.slack, "C1", event["ts"])
        assert "Stopped by" in text and "finished the long job" not in text
        assert with_button(h.slack, "C1", event["ts"], "stop_turn") == []
        follow = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> show the marker", thread_ts=event["ts"]
        )
        assert await h.send_event(follow) == 200
        await h.settle(60)
        # Interrupted, not killed: the variable set before the stop is still there.
        assert "Marker: kept" in thread_text(h.slack, "C1", event["ts"])


async def test_a_restart_mid_run_ends_in_an_honest_failure_with_retry(tmp_path: Path) -> None:
    db = tmp_path / "insightbot.db"
    async with FakeSlack() as slack, FakeOpenAI() as openai, FakeChat(script=long_runner) as chat:
        env = local_env(chat)
        async with bot_over(slack, openai, db, INSIGHTBOT_DRAIN_S="0.05", **env) as h:
            event = await ask(h, text="<@UBOT> run the long job", content=CSV)
            await _running_cell(h, chat, event)
        async with bot_over(slack, openai, db, **env) as h:
            await h.settle(30)
            text = thread_text(slack, "C1", event["ts"])
            assert "finished the long job" not in text
            assert "restart" in text.lower() or "interrupted" in text.lower(), text
            assert with_button(slack, "C1", event["ts"], "retry_turn"), text
            assert with_button(slack, "C1", event["ts"], "stop_turn") == []


# ---------------------------------------------------------------- secrets


SNOOP = r"""
import os, glob
print(dict(os.environ))
for path in ["/proc/1/environ", "/proc/self/environ"]:
    try:
        print(path, open(path, "rb").read().decode(errors="replace"))
    except OSError as err:
        print(path, "refused:", err)
for path in [DB, ENV]:
    try:
        print(path, open(path, "rb").read()[:200])
    except OSError as err:
        print(path, "refused:", err)
for pattern in ["/*", "/root/*", "/home/*", "/tmp/*", "/mnt/data/*"]:
    print(pattern, glob.glob(pattern)[:20])
import socket
s = socket.socket()
try:
    s.connect(("127.0.0.1", PORT))
    print("connected")
except OSError as err:
    print("no network:", err)
"""


async def test_no_bot_secret_reaches_the_model_server_even_when_code_goes_looking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INSIGHTBOT_TEST_DECOY", DECOY)
    (tmp_path / ".env").write_text(f"SLACK_BOT_TOKEN={DECOY}\n")
    monkeypatch.chdir(tmp_path)
    holder: dict[str, int] = {}

    def snooper(turn: Turn) -> Reply:
        if not turn.results:
            code = SNOOP.replace("PORT", str(holder["port"]))
            code = code.replace("DB", repr(str(tmp_path / "insightbot.db")))
            return Reply(code=code.replace("ENV", repr(str(tmp_path / ".env"))))
        return Reply(text="looked around")

    async with local_bot(tmp_path, snooper) as (h, chat):
        holder["port"] = chat.port
        event = await ask(h, text="<@UBOT> look around", content=CSV)
        await h.settle(60)
        assert "looked around" in thread_text(h.slack, "C1", event["ts"])
        last = chat.completions(streamed=True)[-1].body["messages"]
        (result,) = [m["content"] for m in last if m["role"] == "tool"]
        assert "no network" in result and "connected" not in result
        assert result.count("refused:") >= 2  # the database and .env could not be opened
        secrets = [
            DECOY,
            h.slack.bot_token,
            h.slack.app_token,
            h.slack.signing_secret,
            h.openai.api_key,
            "SQLite format 3",  # the first bytes of the bot's database
        ]
        for request in chat.requests:
            seen = request.raw + json.dumps(request.headers)
            for secret in secrets:
                assert secret not in seen, f"{secret!r} reached the model server"
            assert request.headers.get("Authorization") == f"Bearer {LOCAL_KEY}"


# ---------------------------------------------------------------- the terminal


async def test_insightbot_ask_uses_the_local_engine(tmp_path: Path) -> None:
    """The real command in its own process, with no OpenAI key anywhere."""
    data = tmp_path / "sales.csv"
    data.write_bytes(CSV)

    def summing(turn: Turn) -> Reply:
        if not turn.results:
            return Reply(
                code="import pandas as pd\nprint(pd.read_csv('/mnt/data/sales.csv').amount.sum())"
            )
        return Reply(text=f"Total: {_stdout_of(turn.results[-1])}")

    async with FakeChat(script=summing) as chat:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SLACK_"))}
        env.update(
            local_env(
                chat,
                INSIGHTBOT_DB=str(tmp_path / "cli.db"),
                INSIGHTBOT_ASK_DB=str(tmp_path / "ask.db"),
            )
        )
        del env["OPENAI_API_KEY"]
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "ask",
            str(data),
            "-q",
            "total amount?",
            "--out",
            str(tmp_path / "out"),
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert "Total: 400" in out.decode()
    assert "running Python" in err.decode()
    assert all(r.headers.get("Authorization") == f"Bearer {LOCAL_KEY}" for r in chat.requests)


# ---------------------------------------------------------------- limits and steps


def looping(turn: Turn) -> Reply:
    if not turn.results:
        return Reply(code="while True:\n    pass")
    return Reply(text=f"The code was stopped: {'time limit' in turn.results[-1]}")


async def test_a_cell_past_its_time_limit_is_stopped_and_the_bot_says_so_itself(
    tmp_path: Path,
) -> None:
    from bot.messages import local_limit

    async with local_bot(tmp_path, looping, INSIGHTBOT_LOCAL_CELL_TIMEOUT_S="2") as (h, _chat):
        event = await ask(h, text="<@UBOT> loop forever", content=CSV)
        await h.settle(60)
        text = thread_text(h.slack, "C1", event["ts"])
        assert local_limit("en", "time") in text
        assert "The code was stopped: True" in text  # the model was told too


def tireless(turn: Turn) -> Reply:
    return Reply(code=f"print({len(turn.results)})")


async def test_after_the_most_steps_the_answer_says_it_stopped(tmp_path: Path) -> None:
    from bot.messages import local_max_steps

    async with local_bot(tmp_path, tireless, INSIGHTBOT_LOCAL_MAX_STEPS="2") as (h, chat):
        event = await ask(h, text="<@UBOT> never stop", content=CSV)
        await h.settle(60)
        assert local_max_steps("en", 2) in thread_text(h.slack, "C1", event["ts"])
        assert len(chat.completions(streamed=True)) == 3  # two runs of Python, then no more
