"""The fake OpenAI server behaves like the real API for the flows the engine relies on,
driven through the real AsyncOpenAI client."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI

from tests.fakes.openai_model import (
    ModelArtifact,
    ModelContext,
    ModelFile,
    ModelResult,
    default_model,
)
from tests.fakes.openai_server import FakeOpenAI

TABLE = "지역,금액\n서울,100\n부산,200\n대구,300\n"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXPECTED_ORDER = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.code_interpreter_call.in_progress",
    "response.code_interpreter_call_code.delta",
    "response.code_interpreter_call_code.done",
    "response.code_interpreter_call.interpreting",
    "response.code_interpreter_call.completed",
    "response.output_item.done",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.annotation.added",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


async def container_with(openai_client: AsyncOpenAI, name: str, data: bytes) -> tuple[str, str]:
    """A container holding one uploaded file; returns (container id, path in the container)."""
    file = await openai_client.files.create(file=(name, data), purpose="user_data")
    container = await openai_client.containers.create(name="thread")
    added = await openai_client.containers.files.create(container.id, file_id=file.id)
    return container.id, added.path


async def ask(openai_client: AsyncOpenAI, container_id: str, question: str, **extra: Any) -> Any:
    return await openai_client.responses.create(
        model="gpt-5.6",
        input=question,
        tools=[{"type": "code_interpreter", "container": container_id}],
        **extra,
    )


def collapse(types: list[str]) -> list[str]:
    """Event types with runs of the same type merged (deltas come several at a time)."""
    return [t for i, t in enumerate(types) if i == 0 or types[i - 1] != t]


# ---------------------------------------------------------------- the main flow


async def test_streamed_background_chart_run_from_upload_to_conversation(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    container_id, path = await container_with(openai_client, "매출.csv", TABLE.encode("cp949"))
    assert path.startswith("/mnt/data/") and path.endswith("-매출.csv")
    conv = await openai_client.conversations.create()
    stream = await openai_client.responses.create(
        model="gpt-5.6",
        input="지역별 금액 차트를 그려 주세요",
        instructions=f"The user's files: {path}",
        tools=[{"type": "code_interpreter", "container": container_id}],
        conversation=conv.id,
        include=["code_interpreter_call.outputs"],
        background=True,
        stream=True,
    )
    events = [event async for event in stream]

    assert collapse([e.type for e in events]) == EXPECTED_ORDER
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert sum(e.type == "response.output_text.delta" for e in events) > 1
    code = next(e for e in events if e.type == "response.code_interpreter_call_code.done").code
    assert path in code and "/mnt/data/chart.png" in code
    done_items = [e.item for e in events if e.type == "response.output_item.done"]
    assert done_items[0].outputs[0].logs == "매출.csv: rows=3 total=600"
    final = events[-1].response
    assert final.status == "completed" and final.usage.total_tokens > 0
    assert "- 매출.csv: 3 rows, total 600 (encoding cp949)" in final.output_text
    assert "[chart](sandbox:/mnt/data/chart.png)" in final.output_text

    citation = next(e for e in events if e.type == "response.output_text.annotation.added")
    annotation = citation.annotation
    assert final.output_text[annotation.start_index : annotation.end_index] == (
        "sandbox:/mnt/data/chart.png"
    )
    chart = await openai_client.containers.files.content.retrieve(
        annotation.file_id, container_id=annotation.container_id
    )
    assert chart.read().startswith(PNG_SIGNATURE)
    listed = (await openai_client.containers.files.list(container_id)).data
    assert {(f.path, f.source) for f in listed} == {
        (path, "user"),
        ("/mnt/data/chart.png", "assistant"),
    }

    items = (await openai_client.conversations.items.list(conv.id, order="asc")).data
    assert [i.type for i in items] == ["message", "code_interpreter_call", "message"]
    assert openai_fake.model_calls[0].instructions == f"The user's files: {path}"
    assert openai_fake.model_calls[0].question == "지역별 금액 차트를 그려 주세요"
    assert all(r.headers["authorization"] == "Bearer sk-test-fake" for r in openai_fake.requests)


async def test_every_answer_has_a_request_id(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    raw = await openai_client.containers.with_raw_response.create(name="x")
    assert raw.headers["x-request-id"].startswith("req_")
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.containers.retrieve("cntr_missing")
    assert caught.value.request_id and caught.value.request_id.startswith("req_")


# ---------------------------------------------------------------- resuming and cancelling


@pytest.mark.parametrize("abrupt", [True, False], ids=["dropped", "ended-early"])
async def test_retrieve_with_starting_after_resumes_without_duplicates(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI, abrupt: bool
) -> None:
    container_id, _ = await container_with(openai_client, "a.csv", b"k,v\na,1\nb,2\n")
    openai_fake.event_delay_s = 0.002
    openai_fake.cut_next_stream_after(6, abrupt=abrupt)
    first = []
    with pytest.raises(openai.APIConnectionError) if abrupt else _no_error():
        stream = await ask(openai_client, container_id, "totals", background=True, stream=True)
        async for event in stream:
            first.append(event)
    assert len(first) == 6
    rest = await openai_client.responses.retrieve(
        first[0].response.id, stream=True, starting_after=first[-1].sequence_number
    )
    second = [event async for event in rest]
    numbers = [e.sequence_number for e in first + second]
    assert numbers == list(range(len(numbers)))
    assert second[-1].type == "response.completed"
    assert "a.csv: 2 rows, total 3" in second[-1].response.output_text


class _no_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


async def test_cancel_background_response_is_idempotent(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    container_id, _ = await container_with(openai_client, "a.csv", b"k,v\na,1\n")
    openai_fake.run_delay_s = 5
    response = await ask(openai_client, container_id, "totals", background=True)
    assert response.status == "queued"
    assert (await openai_client.responses.cancel(response.id)).status == "cancelled"
    assert (await openai_client.responses.cancel(response.id)).status == "cancelled"
    assert (await openai_client.responses.retrieve(response.id)).status == "cancelled"
    openai_fake.run_delay_s = 0
    foreground = await ask(openai_client, container_id, "totals")
    with pytest.raises(openai.BadRequestError, match="background=true"):
        await openai_client.responses.cancel(foreground.id)


# ---------------------------------------------------------------- faults


async def test_rate_limit_retry_after_is_honoured_by_the_sdk_retry(openai_fake: FakeOpenAI) -> None:
    openai_fake.fail_next(
        "POST", "/v1/containers", status=429, code="rate_limit_exceeded", retry_after=0.3
    )
    sdk = AsyncOpenAI(base_url=openai_fake.base_url, api_key=openai_fake.api_key, max_retries=2)
    started = time.monotonic()
    container = await sdk.containers.create(name="x")
    await sdk.close()
    assert time.monotonic() - started >= 0.3
    attempts = openai_fake.requests_to("POST", "/v1/containers")
    assert [r.status for r in attempts] == [429, 200]
    assert attempts[1].headers["x-stainless-retry-count"] == "1"
    assert container.id in openai_fake.containers


@pytest.mark.parametrize(
    ("status", "code", "error", "type_"),
    [
        (429, "insufficient_quota", openai.RateLimitError, "insufficient_quota"),
        (429, "rate_limit_exceeded", openai.RateLimitError, "requests"),
        (500, None, openai.InternalServerError, "server_error"),
        (401, "invalid_api_key", openai.AuthenticationError, "invalid_request_error"),
    ],
)
async def test_fail_next_answers_the_error_envelope(
    openai_client: AsyncOpenAI,
    openai_fake: FakeOpenAI,
    status: int,
    code: str | None,
    error: type[openai.APIStatusError],
    type_: str,
) -> None:
    openai_fake.fail_next("POST", "/v1/responses", status=status, code=code)
    with pytest.raises(error) as caught:
        await openai_client.responses.create(model="gpt-5.6", input="hi")
    assert caught.value.status_code == status
    assert caught.value.code == code and caught.value.type == type_
    assert "retry-after" not in caught.value.response.headers
    assert (await openai_client.responses.create(model="gpt-5.6", input="hi")).status == "completed"


async def test_wrong_api_key_is_refused(openai_fake: FakeOpenAI) -> None:
    sdk = AsyncOpenAI(base_url=openai_fake.base_url, api_key="sk-not-the-one", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        await sdk.files.list()
    await sdk.close()
    assert caught.value.code == "invalid_api_key"
    assert "sk-not-the-one" not in caught.value.message


async def test_failed_response_streams_then_ends_failed(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    container_id, _ = await container_with(openai_client, "a.csv", b"k,v\na,1\n")
    conv = await openai_client.conversations.create()
    openai_fake.fail_next_response(code="server_error", message="The sandbox crashed.")
    stream = await ask(openai_client, container_id, "totals", conversation=conv.id, stream=True)
    events = [event async for event in stream]
    assert events[-1].type == "response.failed"
    assert "response.code_interpreter_call.completed" in [e.type for e in events]
    failed = events[-1].response
    assert failed.status == "failed"
    assert (failed.error.code, failed.error.message) == ("server_error", "The sandbox crashed.")
    assert (await openai_client.conversations.items.list(conv.id)).data == []


async def test_expired_container_refuses_files_and_responses(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    container_id, _ = await container_with(openai_client, "a.csv", b"k,v\na,1\n")
    openai_fake.expire_container(container_id)
    assert (await openai_client.containers.retrieve(container_id)).status == "expired"
    with pytest.raises(openai.BadRequestError, match=r"Container is expired\."):
        await openai_client.containers.files.create(container_id, file=("b.csv", b"x"))
    with pytest.raises(openai.BadRequestError, match=r"Container is expired\."):
        await ask(openai_client, container_id, "totals")


async def test_conversation_refuses_items_of_an_expired_container(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    old, _ = await container_with(openai_client, "a.csv", b"k,v\na,1\n")
    conv = await openai_client.conversations.create()
    await ask(openai_client, old, "totals", conversation=conv.id)
    openai_fake.expire_container(old)
    new, _ = await container_with(openai_client, "a.csv", b"k,v\na,1\n")
    with pytest.raises(openai.BadRequestError) as caught:
        await ask(openai_client, new, "again", conversation=conv.id)
    assert f"Container {old} is expired" in caught.value.message
    assert caught.value.param == "conversation"
    fresh = await openai_client.conversations.create()
    assert (await ask(openai_client, new, "again", conversation=fresh.id)).status == "completed"


async def test_latency_is_added_before_answers(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    openai_fake.latency_s = 0.2
    started = time.monotonic()
    await openai_client.conversations.create()
    assert time.monotonic() - started >= 0.2


# ---------------------------------------------------------------- uploads


async def test_uploads_api_in_parts_reassembles_the_bytes(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    data = bytes(range(256)) * 40_000  # 10,240,000 bytes
    upload = await openai_client.uploads.upload_file_chunked(
        file=data,
        filename="big.csv",
        bytes=len(data),
        mime_type="text/csv",
        purpose="user_data",
        part_size=4_000_000,
        md5=hashlib.md5(data).hexdigest(),
    )
    assert upload.status == "completed" and upload.file is not None
    assert openai_fake.upload_parts == [4_000_000, 4_000_000, 2_240_000]
    assert openai_fake.file_bytes(upload.file.id) == data
    assert (await openai_client.files.retrieve(upload.file.id)).bytes == len(data)


async def test_upload_complete_checks_size_and_md5(openai_client: AsyncOpenAI) -> None:
    upload = await openai_client.uploads.create(
        bytes=10, filename="a.csv", mime_type="text/csv", purpose="user_data"
    )
    part = await openai_client.uploads.parts.create(upload.id, data=b"12345")
    with pytest.raises(openai.BadRequestError, match=r"\(5\) does not match .* \(10\)"):
        await openai_client.uploads.complete(upload.id, part_ids=[part.id])
    second = await openai_client.uploads.parts.create(upload.id, data=b"67890")
    with pytest.raises(openai.BadRequestError, match="md5"):
        await openai_client.uploads.complete(upload.id, part_ids=[part.id, second.id], md5="0" * 32)
    done = await openai_client.uploads.complete(upload.id, part_ids=[part.id, second.id])
    assert done.status == "completed"
    with pytest.raises(openai.BadRequestError, match="already completed"):
        await openai_client.uploads.cancel(upload.id)


async def test_upload_part_over_64_mb_is_refused(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    upload = await openai_client.uploads.create(
        bytes=64 * 1024 * 1024 + 1, filename="a.csv", mime_type="text/csv", purpose="user_data"
    )
    with pytest.raises(openai.BadRequestError, match="Part size exceeds"):
        await openai_client.uploads.parts.create(upload.id, data=b"x" * (64 * 1024 * 1024 + 1))
    assert openai_fake.upload_parts == []
    assert openai_fake.requests_to("POST", "/v1/uploads/")[0].body_size > 64 * 1024 * 1024


# ---------------------------------------------------------------- the model reads the bytes


def _zip(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "line"),
    [
        ("t.csv", TABLE.encode("utf-8"), "- t.csv: 3 rows, total 600 (encoding utf-8)"),
        ("t.csv", TABLE.encode("cp949"), "- t.csv: 3 rows, total 600 (encoding cp949)"),
        ("t.csv", TABLE.encode("utf-8-sig"), "- t.csv: 3 rows, total 600 (encoding utf-8-sig)"),
        ("t.csv", TABLE.encode("utf-16"), "- t.csv: 3 rows, total 600 (encoding utf-16)"),
        (
            "t.tsv.zip",
            _zip("t.tsv", TABLE.replace(",", "\t").encode()),
            "- t.tsv.zip: 3 rows, total 600 (encoding utf-8)",
        ),
        (
            "t.csv",
            TABLE.encode("cp949").rsplit(b"\n", 2)[0] + b"\n",
            "- t.csv: 2 rows, total 300 (encoding cp949)",
        ),
        ("t.csv", TABLE.encode().replace(b"300", b"3\x0000"), "- t.csv: 3 rows, total 300"),
    ],
    ids=["utf-8", "cp949", "utf-8-sig", "utf-16", "zip-tsv", "truncated", "corrupted"],
)
async def test_answer_comes_from_the_stored_bytes(
    openai_client: AsyncOpenAI, name: str, data: bytes, line: str
) -> None:
    container_id, _ = await container_with(openai_client, name, data)
    response = await ask(openai_client, container_id, "totals?")
    assert line in response.output_text


def model_file(tmp_path: Any, name: str, data: bytes) -> ModelFile:
    disk = tmp_path / name
    disk.write_bytes(data)
    return ModelFile(
        file_id="cfile_1",
        name=name,
        container_path=f"/mnt/data/ab-{name}",
        source="user",
        disk_path=disk,
    )


def context_for(question: str, files: list[ModelFile]) -> ModelContext:
    return ModelContext(
        response_id="resp_1",
        question=question,
        instructions=None,
        input=question,
        tools=[],
        container_id="cntr_1",
        conversation_id=None,
        history_length=0,
        files=files,
    )


@pytest.mark.parametrize(
    ("question", "present", "absent"),
    [
        ("totals", [], ["| File |", "chart.png"]),
        ("a table please", ["| File | Rows | Total |", "| t.csv | 3 | 600 |"], ["chart.png"]),
        ("그래프로 보여줘", ["[chart](sandbox:/mnt/data/chart.png)"], ["| File |"]),
    ],
)
def test_default_model_keywords(
    tmp_path: Any, question: str, present: list[str], absent: list[str]
) -> None:
    result = default_model(context_for(question, [model_file(tmp_path, "t.csv", TABLE.encode())]))
    for text in present:
        assert text in result.text
    for text in absent:
        assert text not in result.text
    assert bool(result.artifacts) == ("chart.png" in present[0] if present else False)


def test_default_model_long_answer_and_no_files(tmp_path: Any) -> None:
    long = default_model(context_for("long answer", [model_file(tmp_path, "t.csv", b"a,b\n1,2\n")]))
    assert 29_000 <= len(long.text) <= 31_000 and long.text.count("\n\n") > 20
    empty = default_model(context_for("totals", []))
    assert empty.code is None and "could not find any data files" in empty.text


async def test_replacement_model_sees_the_files_and_its_artifacts_are_cited(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    seen: list[ModelContext] = []

    def scripted(context: ModelContext) -> ModelResult:
        seen.append(context)
        size = sum(len(f.data) for f in context.files)
        return ModelResult(
            text=f"{size} bytes. See sandbox:/mnt/data/out.csv",
            code="print(1)",
            logs="1",
            artifacts=[ModelArtifact(path="/mnt/data/out.csv", data=b"x,y\n")],
        )

    openai_fake.model = scripted
    container_id, path = await container_with(openai_client, "a.csv", b"k,v\na,1\n")
    response = await ask(openai_client, container_id, "anything", instructions="be brief")
    assert response.output_text.startswith("8 bytes.")
    assert [f.container_path for f in seen[0].files] == [path]
    assert seen[0].instructions == "be brief"
    annotation = response.output[1].content[0].annotations[0]
    assert (annotation.filename, annotation.container_id) == ("out.csv", container_id)
    content = await openai_client.containers.files.content.retrieve(
        annotation.file_id, container_id=container_id
    )
    assert content.read() == b"x,y\n"


async def test_a_sized_artifact_is_made_up_as_it_streams_and_its_reads_are_counted(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    big = 3 * 1024 * 1024 + 5
    openai_fake.model = lambda context: ModelResult(
        text="saved",
        code="df.to_csv('/mnt/data/big.csv')",
        artifacts=[
            ModelArtifact(path="/mnt/data/big.csv", size=big),
            ModelArtifact(path="/mnt/data/lie.csv", size=5000, declared_bytes=10, cite=False),
        ],
    )
    container_id, _ = await container_with(openai_client, "a.csv", b"k,v\na,1\n")
    await ask(openai_client, container_id, "anything")

    listed = {f.path: f for f in (await openai_client.containers.files.list(container_id)).data}
    assert listed["/mnt/data/big.csv"].bytes == big
    assert listed["/mnt/data/lie.csv"].bytes == 10  # the list states what the test declared
    [stored] = openai_fake.container_files_named("big.csv")
    assert stored.content_requests == 0 and not stored.disk_path.exists()  # never stored
    digest = hashlib.sha256()
    received = 0
    content = openai_client.containers.files.content.with_streaming_response
    async with content.retrieve(stored.id, container_id=container_id) as response:
        async for chunk in response.iter_bytes(1 << 20):
            received += len(chunk)
            digest.update(chunk)
    assert received == big and digest.hexdigest() == stored.virtual.sha256()  # type: ignore[union-attr]
    assert stored.content_requests == 1
    [liar] = openai_fake.container_files_named("lie.csv")
    lie = await openai_client.containers.files.content.retrieve(liar.id, container_id=container_id)
    assert len(lie.read()) == 5000
