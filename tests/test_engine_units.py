"""Pure parts of the OpenAI engine: sizing, link rewriting, instructions, history summary,
stream translation (fed with SDK models built from API-shaped JSON) and error translation."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from bot.engines.history import MAX_ITEMS, summary_items
from bot.engines.instructions import instructions_for
from bot.engines.openai.errors import engine_error_from, retry_after_seconds
from bot.engines.openai.stream import (
    StreamTranslator,
    answer_text,
    cited_files,
    decode_data_url,
    inline_images,
)
from bot.engines.openai.uploads import FileWindow
from bot.engines.sandbox_links import rewrite_sandbox_links
from bot.engines.sizing import files_that_fit, memory_tier_for, tier_is_enough
from bot.errors import (
    ContainerExpired,
    EngineAuthError,
    EngineBadRequest,
    EngineQuotaExhausted,
    EngineRateLimited,
    EngineUnavailable,
)
from bot.types import (
    CodeDelta,
    CodeDone,
    CodeOutput,
    CodeRunning,
    CodeStarted,
    Failed,
    FailureCode,
    FileFacts,
    PastTurn,
    RunStarted,
    TextDelta,
    UploadedFile,
)

MB = 1024 * 1024
CSV = FileFacts(kind="csv", mime_type="text/csv", encoding="cp949", delimiter=";")
XLSX = FileFacts(kind="xlsx", mime_type="application/vnd.ms-excel")
TSV = FileFacts(kind="tsv", mime_type="text/tab-separated-values", encoding="utf-8", delimiter="\t")


def uploaded(name: str, *, size: int = 1000, facts: FileFacts = CSV, **kw: Any) -> UploadedFile:
    return UploadedFile(
        key=f"k-{name}",
        name=name,
        file_id=f"file-{name}",
        size=size,
        sha256="0" * 64,
        facts=facts,
        **kw,
    )


# ------------------------------------------------------------------ sizing


@pytest.mark.parametrize(
    ("sizes", "facts", "maximum", "tier"),
    [
        ([10 * MB], CSV, "16g", "1g"),
        ([60 * MB, 40 * MB], CSV, "16g", "1g"),
        ([120 * MB], CSV, "16g", "4g"),
        ([500 * MB], CSV, "16g", "4g"),
        ([900 * MB], CSV, "16g", "16g"),
        ([3000 * MB], CSV, "16g", "16g"),  # capped
        ([3000 * MB], CSV, "64g", "64g"),
        ([120 * MB], CSV, "1g", "1g"),  # capped
        ([40 * MB], XLSX, "16g", "4g"),  # compressed formats count triple
    ],
)
def test_memory_tier_grows_with_the_data(
    sizes: list[int], facts: FileFacts, maximum: str, tier: str
) -> None:
    files = [uploaded(f"f{i}.csv", size=s, facts=facts) for i, s in enumerate(sizes)]
    assert memory_tier_for(files, maximum=maximum) == tier


def test_tier_is_enough_compares_tiers() -> None:
    assert tier_is_enough("4g", "1g")
    assert tier_is_enough("4g", "4g")
    assert not tier_is_enough("1g", "4g")
    assert not tier_is_enough(None, "1g")


def test_newest_files_fit_and_the_oldest_are_named_left_out() -> None:
    files = [uploaded(n) for n in ("a.csv", "b.csv", "c.csv", "d.csv")]
    kept, left_out = files_that_fit(files, limit=2)
    assert [f.name for f in kept] == ["c.csv", "d.csv"]
    assert left_out == ("a.csv", "b.csv")
    kept, left_out = files_that_fit([*files[:2], files[0]], limit=5)
    assert [f.name for f in kept] == ["b.csv", "a.csv"] and left_out == ()


# ------------------------------------------------------------------ sandbox links


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        (
            "See [the chart](sandbox:/mnt/data/chart.png).",
            "See the chart (📎 `chart.png`).",
        ),
        (
            "![매출 차트](<sandbox:/mnt/data/매출 차트.png>)",
            "매출 차트 (📎 `매출 차트.png`)",
        ),
        (
            "[download](sandbox:/mnt/data/%EB%A7%A4%EC%B6%9C.csv)",
            "download (📎 `매출.csv`)",
        ),
        ("[data](sandbox:/mnt/data/unknown.csv) is ready", "data is ready"),
        ("[](sandbox:/mnt/data/chart.png)", "📎 `chart.png`"),
        ("[report](sandbox:/mnt/data/report(1).xlsx)", "report (📎 `report(1).xlsx`)"),
        ("Code: `[x](sandbox:/mnt/data/chart.png)`", "Code: `[x](sandbox:/mnt/data/chart.png)`"),
        (
            "```\n[x](sandbox:/mnt/data/chart.png)\n```",
            "```\n[x](sandbox:/mnt/data/chart.png)\n```",
        ),
        ("[site](https://example.com/chart.png)", "[site](https://example.com/chart.png)"),
    ],
)
def test_sandbox_links_point_to_attached_files(markdown: str, expected: str) -> None:
    names = {
        "chart.png": "chart.png",
        "/mnt/data/매출 차트.png": "매출 차트.png",
        "sandbox:/mnt/data/매출.csv": "매출.csv",
        "report(1).xlsx": "report(1).xlsx",
    }
    assert rewrite_sandbox_links(markdown, names) == expected


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("See [chart](sandbox:/mnt/data/x.png).", {"x.png"}, "See chart (📎 `x.png`)."),
        ("![Sales](sandbox:/mnt/data/sales.png)", {"sales.png"}, "Sales (📎 `sales.png`)"),
        ("[x.png](sandbox:/mnt/data/x.png)", {"x.png"}, "x.png (📎 `x.png`)"),
        ("[표](sandbox:/mnt/data/%EB%A7%A4%EC%B6%9C.png)", {"매출.png"}, "표 (📎 `매출.png`)"),
        ("[gone](sandbox:/mnt/data/gone.csv)", {"x.png"}, "gone"),
        ("saved to sandbox:/mnt/data/out.csv now", {"out.csv"}, "saved to out.csv now"),
        ("bare `sandbox:/mnt/data/out.csv` in code", {"out.csv"}, "bare `sandbox:/mnt/data/out.csv` in code"),
        ("no links here", set(), "no links here"),
    ],
)  # fmt: skip
def test_sandbox_links_become_plain_names(text: str, names: set[str], expected: str) -> None:
    rewritten = rewrite_sandbox_links(text, {n: n for n in names})
    assert rewritten == expected
    if "`" not in text:
        assert "sandbox:" not in rewritten


# ------------------------------------------------------------------ instructions


def test_instructions_name_exact_paths_and_house_rules() -> None:
    files = [
        uploaded("매출.csv"),
        uploaded("data.tsv", facts=TSV, upload_name="data.tsv.zip"),
        uploaded("absent.csv"),
    ]
    paths = {
        "file-매출.csv": "/mnt/data/ab12-매출.csv",
        "file-data.tsv": "/mnt/data/cd34-data.tsv.zip",
    }
    text = instructions_for(files=files, file_paths=paths, left_out=("old.csv",))
    assert "/mnt/data/ab12-매출.csv" in text and "cp949" in text and "';'" in text
    line = next(x for x in text.splitlines() if "cd34-data.tsv.zip" in x)
    assert "unzip" in line.lower()
    assert "absent.csv" not in text
    assert "old.csv" in text
    lowered = text.lower()
    for rule in ("korean", "png", "/mnt/data", "hangul", "markdown", "assumption", "concise"):
        assert rule in lowered, rule


def test_instructions_without_files_say_so() -> None:
    assert "No data files" in instructions_for(files=[], file_paths={})


# ------------------------------------------------------------------ history summary


def test_summary_keeps_newest_turns_in_order_within_limits() -> None:
    history = [PastTurn(question=f"question {i}", answer="answer " * 400) for i in range(30)]
    items = summary_items(history)
    assert len(items) <= MAX_ITEMS
    assert items[0]["role"] == "developer"
    questions = [i["content"] for i in items if i["role"] == "user"]
    assert questions[-1] == "question 29"
    assert questions == sorted(questions, key=lambda q: int(q.split()[1]))
    assert sum(len(i["content"]) for i in items) < 10_000
    assert all(len(i["content"]) <= 1200 for i in items if i["role"] == "assistant")


def test_summary_of_no_history_is_empty() -> None:
    assert summary_items([]) == []


# ------------------------------------------------------------------ stream translation

EVENT = TypeAdapter(ResponseStreamEvent)
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 20


def snapshot(
    status: str, output: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1_700_000_000,
        "status": status,
        "model": "gpt-5.6",
        "output": output or [],
        "tool_choice": "auto",
        "tools": [],
        "parallel_tool_calls": True,
        **extra,
    }


def message(text: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": annotations or []}],
    }


def code_item(outputs: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {
        "type": "code_interpreter_call",
        "id": "ci_1",
        "status": "completed",
        "container_id": "cntr_1",
        "code": "print(1)",
        "outputs": outputs,
    }


CITATION = {
    "type": "container_file_citation",
    "container_id": "cntr_1",
    "file_id": "cfile_1",
    "filename": "chart.png",
    "start_index": 0,
    "end_index": 0,
}


def feed_all(translator: StreamTranslator, raw: list[dict[str, Any]]) -> list[Any]:
    out = []
    for number, event in enumerate(raw):
        event.setdefault("sequence_number", number)
        out.extend(translator.feed(EVENT.validate_python(event)))
    return out


def run_events(text_pieces: list[str]) -> list[dict[str, Any]]:
    ref = {"item_id": "ci_1", "output_index": 0}
    text_ref = {"item_id": "msg_1", "output_index": 1, "content_index": 0, "logprobs": []}
    final = snapshot(
        "completed",
        [
            code_item([{"type": "logs", "logs": "rows=3"}]),
            message("".join(text_pieces), [CITATION]),
        ],
    )
    return [
        {"type": "response.created", "response": snapshot("queued")},
        {"type": "response.in_progress", "response": snapshot("in_progress")},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": code_item(None) | {"status": "in_progress"},
        },
        {"type": "response.code_interpreter_call.in_progress", **ref},
        {"type": "response.code_interpreter_call_code.delta", "delta": "print(", **ref},
        {"type": "response.code_interpreter_call_code.done", "code": "print(1)", **ref},
        {"type": "response.code_interpreter_call.interpreting", **ref},
        {"type": "response.code_interpreter_call.completed", **ref},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": code_item([{"type": "logs", "logs": "rows=3"}]),
        },
        *({"type": "response.output_text.delta", "delta": p, **text_ref} for p in text_pieces),
        {
            "type": "response.output_text.annotation.added",
            "annotation_index": 0,
            "annotation": CITATION,
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
        },
        {"type": "response.completed", "response": final},
    ]


def test_translator_maps_a_whole_run_in_order() -> None:
    translator = StreamTranslator(request_id="req_1")
    events = feed_all(translator, run_events(["Hello ", "world"]))
    assert events[0] == RunStarted("resp_1", "req_1", 0)
    kinds = [type(e) for e in events]
    assert kinds == [
        RunStarted,
        CodeStarted,
        CodeDelta,
        CodeDone,
        CodeRunning,
        CodeOutput,
        TextDelta,
        TextDelta,
    ]
    assert events[5] == CodeOutput("ci_1", "rows=3", 8)
    assert translator.streamed_text == "Hello world"
    assert translator.final is not None and translator.failure is None
    assert translator.citations[0].file_id == "cfile_1"
    assert translator.sequence is not None
    assert translator.resume_point == translator.sequence - 1
    assert all(e.sequence is not None for e in events)


def test_translator_ignores_events_at_or_before_its_cursor() -> None:
    raw = run_events(["a", "b", "c"])
    for number, event in enumerate(raw):
        event["sequence_number"] = number
    first = StreamTranslator()
    seen = feed_all(first, raw[:10])
    again = feed_all(first, raw[5:])  # a server replaying older events
    texts = [e.delta for e in [*seen, *again] if isinstance(e, TextDelta)]
    assert "".join(texts) == "abc"


@pytest.mark.parametrize(
    ("terminal", "code", "reason", "words", "retryable"),
    [
        (
            snapshot("failed", error={"code": "server_error", "message": "Boom in sandbox."}),
            FailureCode.RESPONSE_FAILED,
            "server_error",
            "Boom in sandbox.",
            True,
        ),
        (
            snapshot("incomplete", incomplete_details={"reason": "max_output_tokens"}),
            FailureCode.INCOMPLETE,
            "max_output_tokens",
            "too long",
            False,
        ),
        (snapshot("cancelled"), FailureCode.CANCELLED, None, "stopped", False),
    ],
)
def test_translator_reports_unfinished_responses(
    terminal: dict[str, Any], code: FailureCode, reason: str | None, words: str, retryable: bool
) -> None:
    translator = StreamTranslator()
    kind = {"failed": "response.failed", "incomplete": "response.incomplete"}.get(
        terminal["status"], "response.failed"
    )
    feed_all(
        translator,
        [
            {"type": "response.created", "response": snapshot("queued")},
            {
                "type": "response.output_text.delta",
                "item_id": "m",
                "output_index": 0,
                "content_index": 0,
                "delta": "partial",
                "logprobs": [],
            },
            {"type": kind, "response": terminal},
        ],
    )
    failure = translator.failure
    assert isinstance(failure, Failed)
    assert failure.code is code and failure.reason == reason and words in failure.message
    assert failure.retryable is retryable and failure.partial_text == "partial"


def test_error_event_becomes_failed() -> None:
    translator = StreamTranslator()
    feed_all(
        translator,
        [{"type": "error", "code": "rate_limit_exceeded", "message": "Slow down.", "param": None}],
    )
    assert translator.failure is not None and "Slow down." in translator.failure.message
    assert translator.failure.retryable


def test_final_snapshot_gives_text_citations_and_inline_images() -> None:
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    response = Response.model_validate(
        snapshot(
            "completed",
            [
                code_item(
                    [
                        {"type": "logs", "logs": "x"},
                        {"type": "image", "url": url},
                        {"type": "image", "url": "https://example.invalid/a.png"},
                    ]
                ),
                message("First part", [CITATION, CITATION]),
                message("Second part"),
            ],
        )
    )
    assert answer_text(response) == "First part\n\nSecond part"
    assert [c.file_id for c in cited_files(response)] == ["cfile_1"]
    images = inline_images(response)
    assert len(images) == 1 and images[0].data == PNG and images[0].name == "image-1.png"


def test_text_of_two_messages_streams_with_the_same_separator() -> None:
    translator = StreamTranslator()
    events = feed_all(
        translator,
        [
            {
                "type": "response.output_text.delta",
                "item_id": "m1",
                "output_index": 0,
                "content_index": 0,
                "delta": "First part",
                "logprobs": [],
            },
            {
                "type": "response.output_text.delta",
                "item_id": "m2",
                "output_index": 1,
                "content_index": 0,
                "delta": "Second part",
                "logprobs": [],
            },
        ],
    )
    assert (
        "".join(e.delta for e in events if isinstance(e, TextDelta)) == "First part\n\nSecond part"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("data:image/png;base64," + base64.b64encode(b"abc").decode(), ("image/png", b"abc")),
        ("data:text/plain,abc", None),
        ("https://x.invalid/a.png", None),
    ],
)
def test_decode_data_url(url: str, expected: tuple[str, bytes] | None) -> None:
    assert decode_data_url(url) == expected


# ------------------------------------------------------------------ error translation


def status_error(
    cls: type[openai.APIStatusError],
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> openai.APIStatusError:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/responses")
    response = httpx2.Response(
        status, request=request, headers={"x-request-id": "req_9", **(headers or {})}
    )
    return cls(f"Error code: {status}", response=response, body=body)


@pytest.mark.parametrize(
    ("cls", "status", "body", "expected"),
    [
        (openai.RateLimitError, 429, {"code": None, "message": "Slow down"}, EngineRateLimited),
        (
            openai.RateLimitError,
            429,
            {"code": "insufficient_quota", "type": "insufficient_quota", "message": "quota"},
            EngineQuotaExhausted,
        ),
        (openai.AuthenticationError, 401, {"message": "bad key"}, EngineAuthError),
        (openai.PermissionDeniedError, 403, {"message": "no"}, EngineAuthError),
        (openai.BadRequestError, 400, {"message": "Invalid 'input'."}, EngineBadRequest),
        (openai.BadRequestError, 400, {"message": "Container is expired."}, ContainerExpired),
        (openai.NotFoundError, 404, {"message": "No such File object"}, EngineBadRequest),
        (openai.UnprocessableEntityError, 422, {"message": "bad"}, EngineBadRequest),
        (openai.InternalServerError, 500, {"message": "oops"}, EngineUnavailable),
    ],
)
def test_sdk_errors_translate_to_our_tree(
    cls: type[openai.APIStatusError], status: int, body: dict[str, Any], expected: type
) -> None:
    error = engine_error_from(status_error(cls, status, body))
    assert type(error) is expected
    assert error.request_id == "req_9"
    assert error.user_message


def test_quota_message_says_an_administrator_must_act_and_is_not_retryable() -> None:
    error = engine_error_from(
        status_error(openai.RateLimitError, 429, {"code": "insufficient_quota", "message": "q"})
    )
    assert "quota" in error.user_message and not error.retryable


def test_connection_errors_are_unavailable() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/responses")
    assert isinstance(engine_error_from(openai.APITimeoutError(request)), EngineUnavailable)
    assert isinstance(
        engine_error_from(openai.APIConnectionError(request=request)), EngineUnavailable
    )


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after": "3"}, 3.0), ({"retry-after-ms": "250"}, 0.25), ({}, None)],
)
def test_retry_after_is_read_from_headers(headers: dict[str, str], seconds: float | None) -> None:
    error = status_error(openai.RateLimitError, 429, {"message": "x"}, headers)
    assert retry_after_seconds(error) == seconds


# ------------------------------------------------------------------ upload windows


def test_file_window_reads_only_its_slice_and_rewinds(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with path.open("rb") as handle:
        window = FileWindow(handle, start=100, length=50)
        assert window.read(30) == (bytes(range(256)) * 4)[100:130]
        assert window.read() == (bytes(range(256)) * 4)[130:150]
        assert window.read() == b""
        assert window.seek(0, io.SEEK_END) == 50
        window.seek(0)
        assert len(window.read()) == 50
        with pytest.raises(OSError):
            window.fileno()
