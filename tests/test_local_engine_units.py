"""The local engine's pure parts, its settings, its fake model server's shapes, and the checks
that refuse a model server without tool calling (no kernel is started here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from bot.config import load_settings
from bot.engines.local.conversation import (
    STATE_RESET_NOTE,
    ToolCalls,
    cell_report,
    code_of,
    fitted,
    tokens_of,
)
from bot.engines.local.kernel import CellResult
from bot.errors import ConfigError
from tests.fakes.chat_server import MODEL, FakeChat, Reply
from tests.test_fake_openai_shapes import assert_shape, required_and_known

pytest.importorskip("ipykernel", reason="needs the local extra: pip install -e '.[local]'")


# ---------------------------------------------------------------- what the model reads


def test_a_cell_report_holds_output_value_error_and_files() -> None:
    report = cell_report(
        CellResult(
            stdout="rows: 3\n",
            stderr="warning\n",
            value="42",
            error="Traceback ...\nZeroDivisionError: division by zero",
            files=("chart.png",),
        )
    )
    for part in ("rows: 3", "warning", "42", "ZeroDivisionError", "chart.png"):
        assert part in report


def test_a_cell_report_says_when_state_was_reset_and_which_limit_broke() -> None:
    report = cell_report(CellResult(limit="memory", state_reset=True))
    assert STATE_RESET_NOTE in report
    assert "memory limit" in report and "restarted" in report


def test_long_tool_output_keeps_its_head_and_tail() -> None:
    report = cell_report(CellResult(stdout="HEAD" + "x" * 50_000 + "TAIL"))
    assert len(report) < 8200 and "HEAD" in report and "TAIL" in report


def test_streamed_tool_call_fragments_make_whole_calls() -> None:
    calls = ToolCalls()
    arguments = json.dumps({"code": "print('안녕')"})
    assert calls.add(index=0, call_id="call_a", name="python", arguments="")
    for i in range(0, len(arguments), 5):
        assert not calls.add(index=0, call_id=None, name=None, arguments=arguments[i : i + 5])
    (call,) = calls.calls()
    assert call.call_id == "call_a" and code_of(call) == ("print('안녕')", None)


@pytest.mark.parametrize(
    ("name", "arguments", "said"),
    [
        ("python", "{not json", "not valid JSON"),
        ("python", '{"code": ""}', "non-empty"),
        ("shell", '{"code": "ls"}', "no tool named"),
    ],
)
def test_a_malformed_tool_call_is_explained_to_the_model(
    name: str, arguments: str, said: str
) -> None:
    calls = ToolCalls()
    calls.add(index=0, call_id="c", name=name, arguments=arguments)
    code, problem = code_of(calls.calls()[0])
    assert code is None and problem is not None and said in problem


def test_history_drops_the_oldest_turns_beyond_the_budget_and_keeps_the_question() -> None:
    system = {"role": "system", "content": "rules"}
    past = [
        [{"role": "user", "content": f"q{n} " + "x" * 400}, {"role": "assistant", "content": "a"}]
        for n in range(10)
    ]
    current = [{"role": "user", "content": "the new question"}]
    sent = fitted(system=system, past=past, current=current, budget=400)
    assert sent[0] == system and sent[-1] == current[0]
    assert tokens_of(sent) <= 400
    kept = [m["content"][:2] for m in sent if m["role"] == "user"][:-1]
    assert kept and kept == [f"q{n}" for n in range(10 - len(kept), 10)]  # the newest ones


# ---------------------------------------------------------------- settings


def test_the_local_engine_needs_a_model_and_not_an_openai_key() -> None:
    settings = load_settings({"INSIGHTBOT_ENGINE": "local"}, dotenv_path=None)
    assert settings.engine_requirements() == ("local_model",)
    with pytest.raises(ConfigError, match="INSIGHTBOT_LOCAL_MODEL"):
        settings.require("slack_bot_token", *settings.engine_requirements())
    openai = load_settings({}, dotenv_path=None)
    assert openai.engine == "openai" and openai.engine_requirements() == ("openai_api_key",)
    with pytest.raises(ConfigError, match="INSIGHTBOT_ENGINE must be openai or local"):
        load_settings({"INSIGHTBOT_ENGINE": "ollama"}, dotenv_path=None)


def test_the_local_key_is_a_secret() -> None:
    settings = load_settings(
        {"INSIGHTBOT_LOCAL_API_KEY": "sk-local-1", "INSIGHTBOT_LOCAL_MAX_STEPS": "3"},
        dotenv_path=None,
    )
    assert "sk-local-1" not in repr(settings) and settings.local_max_steps == 3


# ---------------------------------------------------------------- the fake server's shapes


async def _post(chat: FakeChat, body: dict[str, Any]) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{chat.base_url}/chat/completions", json=body) as response,
    ):
        return await response.text()


async def test_the_fake_streams_chunks_as_the_api_defines_them() -> None:
    required, known = required_and_known("CreateChatCompletionStreamResponse")
    async with FakeChat(script=lambda _t: Reply(text="생각 중", code="1+1")) as chat:
        raw = await _post(
            chat,
            {
                "model": MODEL,
                "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "hi"}],
            },
        )
    lines = [line for line in raw.split("\n\n") if line]
    assert all(line.startswith("data: ") for line in lines) and lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    for chunk in chunks:
        assert_shape(ChatCompletionChunk, chunk)
        assert required <= set(chunk) <= known
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "tool_calls" and set(finishes[:-1]) == {None}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


async def test_the_fake_answers_a_plain_completion_as_the_api_defines_it() -> None:
    required, known = required_and_known("CreateChatCompletionResponse")
    async with FakeChat() as chat:
        raw = await _post(chat, {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    body = json.loads(raw)
    assert_shape(ChatCompletion, body)
    assert required <= set(body) <= known


# ---------------------------------------------------------------- refusing a server


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
async def test_a_server_without_tool_calling_is_refused_at_start(tmp_path: Path) -> None:
    from bot.engines.choice import open_engine

    async with FakeChat(tools_supported=False) as chat:
        settings = load_settings(
            {
                "INSIGHTBOT_ENGINE": "local",
                "INSIGHTBOT_LOCAL_BASE_URL": chat.base_url,
                "INSIGHTBOT_LOCAL_MODEL": MODEL,
                "INSIGHTBOT_DB": str(tmp_path / "db"),
            },
            dotenv_path=None,
        )
        with pytest.raises(ConfigError, match="refused tool calling") as refused:
            await open_engine(settings)
    assert "does not support tools" in refused.value.user_message


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
@pytest.mark.parametrize("tools", [True, False])
async def test_doctor_checks_the_font_sandbox_kernel_and_model_server(tools: bool) -> None:
    from bot.doctor import run_doctor

    async with FakeChat(tools_supported=tools) as chat:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-1",
                "SLACK_APP_TOKEN": "xapp-1",
                "INSIGHTBOT_ENGINE": "local",
                "INSIGHTBOT_LOCAL_BASE_URL": chat.base_url,
                "INSIGHTBOT_LOCAL_MODEL": MODEL,
                "INSIGHTBOT_LOCAL_MEMORY_MB": "1024",
                "INSIGHTBOT_LOCAL_MAX_KERNELS": "1",
            },
            dotenv_path=None,
        )
        lines: list[str] = []
        healthy = await run_doctor(
            settings=settings,
            gateway=None,
            engine=None,
            required_scopes=frozenset(),
            say=lines.append,
        )
    report = "\n".join(lines)
    assert healthy is tools, report
    assert "OPENAI_API_KEY" not in report
    assert "ok    local engine: Hangul font found" in report
    assert "ok    local engine: bubblewrap builds the sandbox" in report
    assert "ok    local engine: a sandboxed kernel starts and runs 1+1" in report
    if tools:
        assert (
            f"ok    local model server: model {MODEL} at {chat.base_url} answers and calls tools"
            in report
        )
    else:
        assert "FAIL  local model server refused a request with tools" in report
        assert "does not support tools" in report


# ---------------------------------------------------------------- the stored conversation


async def test_a_threads_conversation_is_stored_in_order_and_forgotten(tmp_path: Path) -> None:
    from storage import open_store

    store = await open_store(tmp_path / "db")
    try:
        first = [{"role": "user", "content": "질문"}, {"role": "assistant", "content": "답"}]
        second = [{"role": "user", "content": "q2"}, {"role": "assistant", "content": "a2"}]
        await store.save_local_turn("local-1", "t1", first)
        await store.save_local_turn("local-1", "t2", second)
        await store.save_local_turn("local-2", "t3", second)
        assert await store.local_history("local-1") == [first, second]
        assert await store.forget_local_history("local-1") == 2
        assert await store.local_history("local-1") == []
        assert await store.local_history("local-2") == [second]
    finally:
        await store.close()
