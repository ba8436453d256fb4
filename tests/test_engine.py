"""The OpenAI engine end to end: the real AsyncOpenAI client against the fake OpenAI server."""

from __future__ import annotations

import asyncio
import hashlib
import tracemalloc
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path

import openai
import pytest

from bot.config import Secret, Settings
from bot.engines.openai import OpenAIEngine, Timing, build_engine
from bot.errors import EngineAuthError, EngineBadRequest, EngineQuotaExhausted
from bot.files import inspect_file, sha256_of
from bot.types import (
    Artifact,
    CodeDone,
    CodeOutput,
    CodeStarted,
    ConversationReplaced,
    EngineEvent,
    Failed,
    FailureCode,
    FileFacts,
    Finished,
    LocalFile,
    PastTurn,
    RunStarted,
    Session,
    TextDelta,
    UploadedFile,
)
from tests.fakes.openai_model import ModelArtifact, ModelContext, ModelResult, default_model
from tests.fakes.openai_server import FakeOpenAI

MB = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FAST = Timing(backoff_s=0.01, max_wait_s=2.0)
SALES = "월,매출\n1월,100\n2월,200\n3월,300\n"
COSTS = "item;cost\nrent;1000\nfood;250\n"


def settings_for(openai_fake: FakeOpenAI, **changes: object) -> Settings:
    base = Settings(
        openai_api_key=Secret(openai_fake.api_key),
        openai_base_url=openai_fake.base_url,
        model="gpt-5.6",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
async def engine(openai_fake: FakeOpenAI) -> AsyncIterator[OpenAIEngine]:
    built = OpenAIEngine(settings=settings_for(openai_fake), timing=FAST)
    yield built
    await built.aclose()


def local_file(tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8") -> LocalFile:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return LocalFile(
        key=f"slack-{name}",
        name=name,
        path=path,
        size=path.stat().st_size,
        sha256=sha256_of(path),
        facts=inspect_file(path, name=name),
    )


async def collect(events: AsyncIterator[EngineEvent]) -> list[EngineEvent]:
    return [event async for event in events]


async def ask(
    engine: OpenAIEngine,
    *,
    session: Session,
    files: Sequence[UploadedFile],
    question: str,
    out_dir: Path,
    turn_id: str = "turn-1",
    history: Sequence[PastTurn] = (),
) -> list[EngineEvent]:
    return await collect(
        engine.run(
            session=session,
            question=question,
            files=files,
            history=history,
            turn_id=turn_id,
            out_dir=out_dir,
        )
    )


def finished(events: list[EngineEvent]) -> Finished:
    last = events[-1]
    assert isinstance(last, Finished), f"run did not finish: {last}"
    return last


def streamed_text(events: list[EngineEvent]) -> str:
    return "".join(e.delta for e in events if isinstance(e, TextDelta))


async def first_turn(
    engine: OpenAIEngine, tmp_path: Path, *, question: str = "How much did we sell?"
) -> tuple[UploadedFile, Session, list[EngineEvent]]:
    uploaded = await engine.upload_file(local_file(tmp_path, "sales.csv", SALES, encoding="cp949"))
    session = await engine.prepare_session(session=None, files=[uploaded], label="T1:C1:1.0")
    events = await ask(
        engine, out_dir=tmp_path, session=session, files=[uploaded], question=question
    )
    return uploaded, session, events


SALES_LINE = "- sales.csv: 3 rows, total 600 (encoding cp949)"


# ------------------------------------------------------------------ answers


async def test_csv_question_gives_text_and_png_chart(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    uploaded, session, events = await first_turn(engine, tmp_path, question="매출 chart 보여줘")

    start = events[0]
    assert isinstance(start, RunStarted) and start.response_id in openai_fake.responses
    assert start.request_id and start.request_id.startswith("req_")
    done = finished(events)
    assert SALES_LINE in done.text
    assert "sandbox:" not in done.text and "chart (📎 `chart.png`)" in done.text
    charts = [e for e in events if isinstance(e, Artifact)]
    assert len(charts) == 1
    assert charts[0].name == "chart.png" and charts[0].mime_type == "image/png"
    assert charts[0].path.read_bytes().startswith(PNG_SIGNATURE)
    assert charts[0].size == charts[0].path.stat().st_size and charts[0].path.parent == tmp_path
    assert {CodeStarted, CodeDone, CodeOutput} <= {type(e) for e in events}
    assert "read_csv" in done.code[0] and done.usage.total_tokens > 0
    sequences = [e.sequence for e in events]
    assert all(isinstance(s, int) for s in sequences) and sequences == sorted(sequences)  # type: ignore[type-var]

    # The model was told the file's exact sandbox path, as the API returned it.
    path = session.file_paths[uploaded.file_id]
    assert path.endswith("-sales.csv") and path in (openai_fake.model_calls[0].instructions or "")
    (create,) = openai_fake.requests_to("POST", "/v1/responses")
    body = create.json or {}
    assert body["background"] is True and body["stream"] is True and body["store"] is True
    assert body["include"] == ["code_interpreter_call.outputs"]
    assert body["tools"] == [{"type": "code_interpreter", "container": session.container_id}]
    assert body["conversation"] == session.conversation_id
    assert body["metadata"] == {"insightbot_turn": "turn-1"}
    assert openai_fake.conversations[session.conversation_id].metadata == {
        "insightbot_thread": "T1:C1:1.0"
    }
    container = openai_fake.containers[session.container_id or ""]
    assert (container.memory_limit, container.expires_minutes) == ("1g", 20)


async def test_two_files_in_one_question(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    sales = await engine.upload_file(local_file(tmp_path, "sales.csv", SALES, encoding="cp949"))
    costs = await engine.upload_file(local_file(tmp_path, "costs.csv", COSTS))
    session = await engine.prepare_session(session=None, files=[sales, costs], label="T1:C1:2.0")
    done = finished(
        await ask(
            engine,
            out_dir=tmp_path,
            session=session,
            files=[sales, costs],
            question="Compare them, table",
        )
    )
    assert SALES_LINE in done.text
    assert "- costs.csv: 2 rows, total 1250 (encoding utf-8)" in done.text
    assert "| File | Rows | Total |" in done.text
    assert set(session.file_paths) == {sales.file_id, costs.file_id}


async def test_follow_up_uses_the_same_conversation_without_reupload(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    uploaded, session, _ = await first_turn(engine, tmp_path)
    again = await engine.prepare_session(session=session, files=[uploaded], label="T1:C1:1.0")
    assert again == session
    done = finished(
        await ask(
            engine,
            out_dir=tmp_path,
            session=again,
            files=[uploaded],
            question="And now?",
            turn_id="turn-2",
        )
    )
    assert SALES_LINE in done.text
    creates = openai_fake.requests_to("POST", "/v1/responses")
    assert [c.json["conversation"] for c in creates if c.json] == [session.conversation_id] * 2
    assert openai_fake.model_calls[1].history_length > 0
    assert len(openai_fake.requests_to("POST", "/v1/files")) == 1
    # one container, one file add, the Hangul font; the follow-up adds nothing
    assert len(openai_fake.requests_to("POST", "/v1/containers")) == 3


async def test_uncited_files_the_code_wrote_are_delivered_too(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    def model(context: ModelContext) -> ModelResult:
        result = default_model(context)
        extra = ModelArtifact(path="/mnt/data/summary.csv", data=b"a,b\n1,2\n", cite=False)
        text = result.text + "\n\nSaved [the summary](sandbox:/mnt/data/summary.csv)."
        return replace(result, text=text, artifacts=[*result.artifacts, extra])

    openai_fake.model = model
    _, _, events = await first_turn(engine, tmp_path, question="chart and a summary file")

    artifacts = {e.name: e for e in events if isinstance(e, Artifact)}
    assert set(artifacts) == {"chart.png", "summary.csv"}
    assert artifacts["summary.csv"].path.read_bytes() == b"a,b\n1,2\n"
    assert artifacts["summary.csv"].mime_type == "text/csv"
    assert "the summary (📎 `summary.csv`)" in finished(events).text


# ------------------------------------------------------------------ sandbox recovery


async def test_expired_container_is_replaced_and_files_added_again(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    uploaded, session, _ = await first_turn(engine, tmp_path)
    openai_fake.expire_container(session.container_id or "")

    renewed = await engine.prepare_session(session=session, files=[uploaded], label="T1:C1:1.0")

    assert renewed.container_id != session.container_id
    assert renewed.conversation_id == session.conversation_id
    adds = openai_fake.requests_to("POST", f"/v1/containers/{renewed.container_id}/files")
    assert [a.json for a in adds if a.json] == [{"file_id": uploaded.file_id}]
    assert len(openai_fake.requests_to("POST", "/v1/files")) == 1  # never uploaded again
    events = await ask(
        engine, out_dir=tmp_path, session=renewed, files=[uploaded], question="again", turn_id="t2"
    )
    assert SALES_LINE in finished(events).text
    assert openai_fake.model_calls[-1].container_id == renewed.container_id


async def test_conversation_that_refuses_the_old_container_is_replaced(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    uploaded, session, first = await first_turn(engine, tmp_path)
    openai_fake.expire_container(session.container_id or "")
    renewed = await engine.prepare_session(session=session, files=[uploaded], label="T1:C1:1.0")
    history = [PastTurn(question="How much did we sell?", answer=finished(first).text)]

    events = await ask(
        engine,
        out_dir=tmp_path,
        session=renewed,
        files=[uploaded],
        question="월별로?",
        turn_id="t2",
        history=history,
    )

    replaced = events[0]
    assert isinstance(replaced, ConversationReplaced)
    assert replaced.conversation_id != session.conversation_id
    assert isinstance(events[1], RunStarted)
    assert SALES_LINE in finished(events).text
    new_conversation = openai_fake.conversations[replaced.conversation_id]
    assert new_conversation.metadata["insightbot_thread"] == "T1:C1:1.0"
    seeded = str(new_conversation.items)
    assert "How much did we sell?" in seeded and "600" in seeded
    last_create = openai_fake.requests_to("POST", "/v1/responses")[-1]
    assert (last_create.json or {})["conversation"] == replaced.conversation_id


async def test_container_too_small_for_the_data_is_replaced_by_a_bigger_one(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    uploaded, session, _ = await first_turn(engine, tmp_path)
    grown = replace(uploaded, size=200 * MB)  # as if the thread's data had grown
    bigger = await engine.prepare_session(session=session, files=[grown], label="T1:C1:1.0")
    assert bigger.container_id != session.container_id and bigger.memory_limit == "4g"
    assert openai_fake.containers[bigger.container_id or ""].memory_limit == "4g"
    assert len(openai_fake.requests_to("POST", "/v1/files")) == 1


async def test_only_the_newest_files_go_in_and_the_others_are_named(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    engine = OpenAIEngine(settings=settings_for(openai_fake, max_files_per_thread=2), timing=FAST)
    files = [
        await engine.upload_file(local_file(tmp_path, f"m{i}.csv", f"a,b\nx,{i}\n"))
        for i in range(3)
    ]
    session = await engine.prepare_session(session=None, files=files, label="T1:C1:3.0")
    assert session.left_out == ("m0.csv",)
    assert set(session.file_paths) == {files[1].file_id, files[2].file_id}
    held = openai_fake.containers[session.container_id or ""].files.values()
    assert sorted(f.name for f in held) == ["m1.csv", "m2.csv"]
    await ask(engine, out_dir=tmp_path, session=session, files=files, question="sum")
    assert "m0.csv" in (openai_fake.model_calls[0].instructions or "")
    await engine.aclose()


async def test_tsv_travels_as_zip_and_is_read(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    uploaded = await engine.upload_file(local_file(tmp_path, "data.tsv", "a\tb\nx\t5\ny\t7\n"))
    assert uploaded.upload_name == "data.tsv.zip"
    assert openai_fake.files[uploaded.file_id].filename == "data.tsv.zip"
    session = await engine.prepare_session(session=None, files=[uploaded], label="T1:C1:4.0")
    instructions = await _instructions_of(engine, openai_fake, session, uploaded, tmp_path)
    assert "unzip" in instructions.lower()


async def _instructions_of(
    engine: OpenAIEngine,
    openai_fake: FakeOpenAI,
    session: Session,
    uploaded: UploadedFile,
    out: Path,
) -> str:
    done = finished(
        await ask(engine, out_dir=out, session=session, files=[uploaded], question="sum")
    )
    assert "- data.tsv.zip: 2 rows, total 12" in done.text
    return openai_fake.model_calls[-1].instructions or ""


# ------------------------------------------------------------------ streams and resumption


@pytest.mark.parametrize("abrupt", [True, False])
async def test_cut_stream_is_resumed_without_losing_or_repeating_text(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path, abrupt: bool
) -> None:
    uploaded = await engine.upload_file(local_file(tmp_path, "sales.csv", SALES, encoding="cp949"))
    session = await engine.prepare_session(session=None, files=[uploaded], label="T1:C1:1.0")
    openai_fake.cut_next_stream_after(14, abrupt=abrupt)  # in the middle of the text deltas

    events = await ask(
        engine, out_dir=tmp_path, session=session, files=[uploaded], question="long answer please"
    )

    done = finished(events)
    assert len(done.text) > 20_000
    assert streamed_text(events) == done.text
    resumed = [r for r in openai_fake.requests_to("GET", "/v1/responses/") if r.query.get("stream")]
    assert resumed and resumed[0].query["starting_after"] == "13"
    assert len(openai_fake.requests_to("POST", "/v1/responses")) == 1


async def test_resume_after_a_crash_continues_from_the_stored_sequence(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    uploaded = await engine.upload_file(local_file(tmp_path, "sales.csv", SALES, encoding="cp949"))
    session = await engine.prepare_session(session=None, files=[uploaded], label="T1:C1:1.0")
    run = engine.run(
        session=session,
        question="long answer, chart",
        files=[uploaded],
        history=[],
        turn_id="t1",
        out_dir=tmp_path,
    )
    before: list[EngineEvent] = []
    async for event in run:  # the process "crashes" after a few pieces of text
        before.append(event)
        if sum(isinstance(e, TextDelta) for e in before) == 3:
            break
    await run.aclose()  # type: ignore[attr-defined]
    start = before[0]
    assert isinstance(start, RunStarted)
    cursor = before[-1].sequence

    after = await collect(
        engine.resume(
            session=session,
            response_id=start.response_id,
            after_sequence=cursor,
            out_dir=tmp_path,
        )
    )

    done = finished(after)
    assert not any(isinstance(e, RunStarted) for e in after)
    text = streamed_text(before) + streamed_text(after)
    assert (
        text.replace("[chart](sandbox:/mnt/data/chart.png)", "chart (📎 `chart.png`)") == done.text
    )
    charts = [e for e in after if isinstance(e, Artifact)]
    assert charts and charts[0].path.read_bytes().startswith(PNG_SIGNATURE)


async def test_resume_after_the_last_event_gives_the_answer_without_repeating_text(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    _, session, events = await first_turn(engine, tmp_path)
    start, done = events[0], finished(events)
    assert isinstance(start, RunStarted)

    again = await collect(
        engine.resume(
            session=session,
            response_id=start.response_id,
            after_sequence=done.sequence,
            out_dir=tmp_path,
        )
    )

    assert not any(isinstance(e, TextDelta) for e in again)
    assert finished(again).text == done.text


async def test_resume_of_an_unknown_response_is_not_resumable(
    engine: OpenAIEngine, openai_fake: FakeOpenAI
) -> None:
    events = await collect(
        engine.resume(
            session=Session("conv_x"),
            response_id="resp_gone",
            after_sequence=5,
            out_dir=Path("/nonexistent"),
        )
    )
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert events[0].code == "not_resumable"


async def test_without_background_a_cut_stream_fails_plainly(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    engine = OpenAIEngine(settings=settings_for(openai_fake, background=False), timing=FAST)
    uploaded = await engine.upload_file(local_file(tmp_path, "sales.csv", SALES, encoding="cp949"))
    session = await engine.prepare_session(session=None, files=[uploaded], label="T1:C1:1.0")
    assert (
        SALES_LINE
        in finished(
            await ask(engine, out_dir=tmp_path, session=session, files=[uploaded], question="q")
        ).text
    )
    openai_fake.cut_next_stream_after(17)  # after a few pieces of text

    events = await ask(
        engine,
        out_dir=tmp_path,
        session=session,
        files=[uploaded],
        question="long answer",
        turn_id="t2",
    )

    failed = events[-1]
    assert isinstance(failed, Failed) and failed.code == "stream_lost" and failed.retryable
    assert failed.partial_text and failed.partial_text == streamed_text(events)
    assert all(
        (r.json or {}).get("background") is False
        for r in openai_fake.requests_to("POST", "/v1/responses")
    )
    assert not openai_fake.requests_to("GET", "/v1/responses/")
    await engine.aclose()


# ------------------------------------------------------------------ failures and retries


async def test_failed_response_is_reported_with_its_message(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    openai_fake.fail_next_response(code="server_error", message="The sandbox ran out of memory.")
    _, _, events = await first_turn(engine, tmp_path)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert "The sandbox ran out of memory." in failed.message
    assert failed.code is FailureCode.RESPONSE_FAILED and failed.reason == "server_error"
    assert failed.retryable
    assert not any(isinstance(e, Finished) for e in events)


@pytest.mark.parametrize(
    ("status", "retry_after"), [(429, 0), (429, None), (500, None), (503, 0.05)]
)
async def test_refused_create_is_retried_and_makes_exactly_one_response(
    engine: OpenAIEngine,
    openai_fake: FakeOpenAI,
    tmp_path: Path,
    status: int,
    retry_after: float | None,
) -> None:
    openai_fake.fail_next("POST", "/v1/responses", status=status, retry_after=retry_after)
    _, _, events = await first_turn(engine, tmp_path)
    assert SALES_LINE in finished(events).text
    creates = openai_fake.requests_to("POST", "/v1/responses")
    assert [c.status for c in creates] == [status, 200]
    assert len(openai_fake.responses) == 1


async def test_rate_limit_that_persists_fails_retryable(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    openai_fake.fail_next("POST", "/v1/responses", status=429, retry_after=0, times=10)
    _, _, events = await first_turn(engine, tmp_path)
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.retryable and failed.code == "rate_limited"
    assert len(openai_fake.requests_to("POST", "/v1/responses")) == FAST.create_attempts


async def test_insufficient_quota_is_told_plainly_and_not_retried(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    openai_fake.fail_next("POST", "/v1/responses", status=429, code="insufficient_quota")
    _, _, events = await first_turn(engine, tmp_path)
    assert len(events) == 1
    failed = events[0]
    assert isinstance(failed, Failed)
    assert failed.message == EngineQuotaExhausted().user_message and not failed.retryable
    assert failed.code == "insufficient_quota"
    assert len(openai_fake.requests_to("POST", "/v1/responses")) == 1


async def test_request_the_engine_refuses_is_not_retried(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    openai_fake.fail_next("POST", "/v1/responses", status=400, message="Invalid 'input': too long.")
    _, _, events = await first_turn(engine, tmp_path)
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.code == "bad_request" and not failed.retryable
    assert "too long" in failed.message
    assert len(openai_fake.requests_to("POST", "/v1/responses")) == 1


async def _slow_down_next_create(openai_fake: FakeOpenAI, *, seconds: float) -> None:
    """Delay the next POST /responses past the client's timeout, and nothing after it."""
    openai_fake.latency_s = seconds
    count = len(openai_fake.requests_to("POST", "/v1/responses"))
    # The fake records requests but signals none, so poll its record.
    while len(openai_fake.requests_to("POST", "/v1/responses")) == count:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)  # let that request reach its delay before lifting it
    openai_fake.latency_s = 0


@pytest.mark.parametrize("same_turn", [True, False])
async def test_create_with_unknown_outcome_looks_before_creating_again(
    openai_fake: FakeOpenAI, tmp_path: Path, same_turn: bool
) -> None:
    client = openai.AsyncOpenAI(
        api_key=openai_fake.api_key, base_url=openai_fake.base_url, timeout=0.3
    )
    engine = OpenAIEngine(settings=settings_for(openai_fake), client=client, timing=FAST)
    uploaded, session, first = await first_turn(engine, tmp_path)
    finished(first)
    slow = asyncio.create_task(_slow_down_next_create(openai_fake, seconds=0.8))
    # Asking again under a turn id the conversation already holds stands for "the lost
    # create did start a run"; a new turn id for "it did not".
    turn_id = "turn-1" if same_turn else "turn-2"

    events = await ask(
        engine, out_dir=tmp_path, session=session, files=[uploaded], question="q", turn_id=turn_id
    )
    await slow

    creates = openai_fake.requests_to("POST", "/v1/responses")
    assert openai_fake.requests_to("GET", f"/v1/conversations/{session.conversation_id}/items")
    # Whether or not the conversation shows the turn yet, nothing is created blindly: the
    # lost create did start a run on the server, and a second one would answer twice.
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.code == "outcome_unknown" and failed.retryable
    assert len(creates) == 2  # the first turn's and the lost one
    await client.close()


async def test_create_that_cannot_reach_the_engine_ends_retryable_without_a_run(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    engine = OpenAIEngine(settings=settings_for(openai_fake), timing=FAST)
    uploaded, session, first = await first_turn(engine, tmp_path)
    finished(first)
    dead = openai.AsyncOpenAI(
        api_key=openai_fake.api_key, base_url="http://127.0.0.1:9/v1", max_retries=0
    )
    offline = OpenAIEngine(settings=settings_for(openai_fake), client=dead, timing=FAST)
    events = await ask(
        offline, out_dir=tmp_path, session=session, files=[uploaded], question="q", turn_id="t-off"
    )
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.code == "outcome_unknown" and failed.retryable
    creates_before = len(openai_fake.requests_to("POST", "/v1/responses"))
    assert creates_before == 1  # only the first turn's: the offline ones never arrived
    await dead.close()
    await engine.aclose()


async def test_cancel_stops_a_running_response(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    uploaded = await engine.upload_file(local_file(tmp_path, "sales.csv", SALES, encoding="cp949"))
    session = await engine.prepare_session(session=None, files=[uploaded], label="T1:C1:1.0")
    openai_fake.run_delay_s = 2.0
    events: list[EngineEvent] = []
    async for event in engine.run(
        session=session, question="q", files=[uploaded], history=[], turn_id="t1", out_dir=tmp_path
    ):
        events.append(event)
        if isinstance(event, RunStarted):
            await engine.cancel(event.response_id)
    failed = events[-1]
    assert isinstance(failed, Failed) and failed.code == "cancelled"
    start = events[0]
    assert isinstance(start, RunStarted)
    await engine.cancel(start.response_id)  # already cancelled: no error
    await engine.cancel("resp_unknown")


# ------------------------------------------------------------------ uploads and doctor


async def test_large_upload_goes_in_small_parts_with_flat_memory(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "big.csv"
    line = b"2024-01-01,\xea\xb0\x80\xeb\x82\x98,12345\n"
    block = line * (MB // len(line) + 1)
    with path.open("wb") as out:
        out.write(b"date,name,amount\n")
        for _ in range(100):
            out.write(block[:MB])
    size = path.stat().st_size
    local = LocalFile(
        key="big",
        name="big.csv",
        path=path,
        size=size,
        sha256=sha256_of(path),
        facts=FileFacts(kind="csv", mime_type="text/csv", encoding="utf-8", delimiter=","),
    )

    tracemalloc.start()
    try:
        uploaded = await engine.upload_file(local)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 32 * MB
    assert sum(openai_fake.upload_parts) == size and max(openai_fake.upload_parts) <= 8 * MB
    assert len(openai_fake.upload_parts) == -(-size // (8 * MB))
    assert not openai_fake.requests_to("POST", "/v1/files")
    stored = hashlib.sha256()
    with openai_fake.files[uploaded.file_id].path.open("rb") as handle:
        while chunk := handle.read(MB):
            stored.update(chunk)
    assert stored.hexdigest() == local.sha256


async def test_upload_retried_by_the_client_sends_the_whole_file_again(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    openai_fake.fail_next("POST", "/v1/files", status=500)
    local = local_file(tmp_path, "sales.csv", SALES * 500, encoding="cp949")
    uploaded = await engine.upload_file(local)
    assert [r.status for r in openai_fake.requests_to("POST", "/v1/files")] == [500, 200]
    assert openai_fake.file_bytes(uploaded.file_id) == local.path.read_bytes()
    assert openai_fake.files[uploaded.file_id].purpose == "user_data"


async def test_upload_with_a_refused_key_raises_auth_error(
    openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    engine = build_engine(replace(settings_for(openai_fake), openai_api_key=Secret("sk-wrong-key")))
    with pytest.raises(EngineAuthError) as raised:
        await engine.upload_file(local_file(tmp_path, "sales.csv", SALES))
    assert "OPENAI_API_KEY" in raised.value.user_message
    assert "sk-wrong-key" not in raised.value.user_message
    await engine.aclose()


async def test_check_reports_the_model_and_translates_errors(openai_fake: FakeOpenAI) -> None:
    engine = build_engine(settings_for(openai_fake))
    assert "gpt-5.6" in await engine.check()
    await engine.aclose()
    wrong_key = build_engine(
        replace(settings_for(openai_fake), openai_api_key=Secret("sk-wrong-key"))
    )
    with pytest.raises(EngineAuthError):
        await wrong_key.check()
    await wrong_key.aclose()
    unknown = build_engine(settings_for(openai_fake, model="gpt-none"))
    with pytest.raises(EngineBadRequest):
        await unknown.check()
    await unknown.aclose()
