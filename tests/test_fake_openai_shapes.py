"""Every body and stream event the fake OpenAI server sends parses with the SDK's own models,
with no key the model does not define (the SDK accepts unknown keys silently, so a walk over
the validated model and the raw JSON together checks that), and top-level objects carry the
keys the OpenAPI spec requires.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
import yaml
from openai import AsyncOpenAI
from openai.types import FileDeleted, FileObject, Model, Upload
from openai.types.container_create_response import ContainerCreateResponse
from openai.types.container_list_response import ContainerListResponse
from openai.types.container_retrieve_response import ContainerRetrieveResponse
from openai.types.containers.file_create_response import FileCreateResponse
from openai.types.containers.file_list_response import FileListResponse
from openai.types.containers.file_retrieve_response import FileRetrieveResponse
from openai.types.conversations import (
    Conversation,
    ConversationDeletedResource,
    ConversationItem,
    ConversationItemList,
)
from openai.types.responses import Response, ResponseStreamEvent
from openai.types.shared import ErrorObject
from openai.types.uploads import UploadPart
from pydantic import BaseModel, TypeAdapter

from tests.fakes.openai_server import FakeOpenAI

# The official spec sits in shared/reference/ beside the checkout (it is not vendored here).
SPEC = next(
    (
        candidate
        for candidate in (
            Path(__file__).resolve().parents[2] / "shared/reference/openai-openapi.yml",
            Path("/work/shared/reference/openai-openapi.yml"),
        )
        if candidate.exists()
    ),
    Path("shared/reference/openai-openapi.yml"),
)
CSV = b"region,amount\nnorth,100\nsouth,200\neast,300\n"
EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
ITEM_ADAPTER: TypeAdapter[Any] = TypeAdapter(ConversationItem)


# ---------------------------------------------------------------- the strict check


def unknown_keys(value: Any, raw: Any, path: str = "$") -> list[str]:
    """Paths of keys in ``raw`` that the validated model ``value`` does not define."""
    problems: list[str] = []
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        by_key = {(info.alias or name): name for name, info in fields.items()}
        for key, child in raw.items():
            if key not in by_key:
                problems.append(f"{path}.{key}")
                continue
            problems += unknown_keys(getattr(value, by_key[key]), child, f"{path}.{key}")
        problems += [f"{path}.{key} (extra)" for key in value.model_extra or {}]
    elif isinstance(value, list) and isinstance(raw, list):
        for i, (v, r) in enumerate(zip(value, raw, strict=True)):
            problems += unknown_keys(v, r, f"{path}[{i}]")
    elif isinstance(value, dict) and isinstance(raw, dict):
        for key in raw:
            problems += unknown_keys(value.get(key), raw[key], f"{path}.{key}")
    return problems


def assert_shape(model: Any, raw: Any, label: str = "") -> Any:
    """Validate ``raw`` with ``model`` (a class or TypeAdapter) and reject unknown keys."""
    adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
    value = adapter.validate_python(raw)
    problems = unknown_keys(value, raw)
    assert not problems, f"{label or model}: keys the SDK model does not define: {problems}"
    return value


def assert_page(raw: dict[str, Any], item_model: Any) -> None:
    assert set(raw) == {"object", "data", "first_id", "last_id", "has_more"}
    assert raw["object"] == "list"
    assert raw["data"], "check a non-empty page"
    assert raw["first_id"] == raw["data"][0]["id"]
    assert raw["last_id"] == raw["data"][-1]["id"]
    for item in raw["data"]:
        assert_shape(item_model, item)


class Nested(BaseModel):
    inner: FileObject


def test_the_strict_check_finds_an_unknown_key_deep_inside() -> None:
    good = {
        "id": "file-1",
        "bytes": 1,
        "created_at": 1,
        "filename": "a",
        "object": "file",
        "purpose": "user_data",
        "status": "processed",
    }
    assert_shape(Nested, {"inner": good})
    with pytest.raises(AssertionError, match=r"\$\.inner\.surprise"):
        assert_shape(Nested, {"inner": {**good, "surprise": 1}})
    response = {**_minimal_response(), "output": [_message_with_annotation_extra()]}
    with pytest.raises(AssertionError, match=r"annotations\[0\]\.page"):
        assert_shape(Response, response)


def _minimal_response() -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-5.6",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def _message_with_annotation_extra() -> dict[str, Any]:
    annotation = {
        "type": "container_file_citation",
        "container_id": "cntr_1",
        "file_id": "cfile_1",
        "filename": "chart.png",
        "start_index": 0,
        "end_index": 1,
        "page": 3,
    }
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "x", "annotations": [annotation]}],
    }


# ---------------------------------------------------------------- fixtures


async def raw_get(openai_fake: FakeOpenAI, path: str) -> Any:
    headers = {"authorization": f"Bearer {openai_fake.api_key}"}
    async with (
        aiohttp.ClientSession() as http,
        http.get(openai_fake.base_url + path, headers=headers) as r,
    ):
        return await r.json()


def body(raw_response: Any) -> Any:
    return json.loads(raw_response.text)


async def container_with_file(openai_client: AsyncOpenAI) -> tuple[str, str]:
    file = await openai_client.files.create(file=("sales.csv", CSV), purpose="user_data")
    container = await openai_client.containers.create(name="shapes", file_ids=[file.id])
    return container.id, file.id


# ---------------------------------------------------------------- plain objects


async def test_files_and_uploads_match_sdk_models(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    created = await openai_client.files.with_raw_response.create(
        file=("sales.csv", CSV),
        purpose="user_data",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    file_id = assert_shape(FileObject, body(created)).id
    assert_shape(FileObject, await raw_get(openai_fake, f"/files/{file_id}"))
    assert_page(await raw_get(openai_fake, "/files"), FileObject)
    deleted = await openai_client.files.with_raw_response.delete(file_id)
    assert_shape(FileDeleted, body(deleted))

    upload = body(
        await openai_client.uploads.with_raw_response.create(
            bytes=len(CSV), filename="sales.csv", mime_type="text/csv", purpose="user_data"
        )
    )
    assert_shape(Upload, upload)
    part = body(await openai_client.uploads.parts.with_raw_response.create(upload["id"], data=CSV))
    assert_shape(UploadPart, part)
    done = body(
        await openai_client.uploads.with_raw_response.complete(upload["id"], part_ids=[part["id"]])
    )
    assert assert_shape(Upload, done).file is not None
    other = await openai_client.uploads.create(
        bytes=3, filename="x.csv", mime_type="text/csv", purpose="user_data"
    )
    assert_shape(Upload, body(await openai_client.uploads.with_raw_response.cancel(other.id)))
    assert_shape(Model, (await raw_get(openai_fake, "/models"))["data"][0])


async def test_containers_match_sdk_models(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    created = body(
        await openai_client.containers.with_raw_response.create(
            name="c", memory_limit="4g", expires_after={"anchor": "last_active_at", "minutes": 20}
        )
    )
    assert_shape(ContainerCreateResponse, created)
    cid = created["id"]
    assert_shape(ContainerRetrieveResponse, await raw_get(openai_fake, f"/containers/{cid}"))
    assert_page(await raw_get(openai_fake, "/containers"), ContainerListResponse)
    file = await openai_client.files.create(file=("a.csv", CSV), purpose="user_data")
    by_id = body(
        await openai_client.containers.files.with_raw_response.create(cid, file_id=file.id)
    )
    by_upload = body(
        await openai_client.containers.files.with_raw_response.create(cid, file=("b.csv", CSV))
    )
    for raw in (by_id, by_upload):
        assert_shape(FileCreateResponse, raw)
    assert_shape(
        FileRetrieveResponse, await raw_get(openai_fake, f"/containers/{cid}/files/{by_id['id']}")
    )
    assert_page(await raw_get(openai_fake, f"/containers/{cid}/files"), FileListResponse)
    openai_fake.expire_container(cid)
    expired = assert_shape(
        ContainerRetrieveResponse, await raw_get(openai_fake, f"/containers/{cid}")
    )
    assert expired.status == "expired"


async def test_conversations_match_sdk_models(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    created = body(
        await openai_client.conversations.with_raw_response.create(
            items=[{"role": "user", "content": "hello"}], metadata={"thread": "C1-1.2"}
        )
    )
    conv_id = assert_shape(Conversation, created).id
    assert_shape(Conversation, await raw_get(openai_fake, f"/conversations/{conv_id}"))
    added = body(
        await openai_client.conversations.items.with_raw_response.create(
            conv_id,
            items=[
                {"type": "message", "role": "assistant", "content": "hi"},
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "q"}],
                },
            ],
        )
    )
    assert_shape(ConversationItemList, added)
    cid, _ = await container_with_file(openai_client)
    await openai_client.responses.create(
        model="gpt-5.6",
        input="totals as a chart",
        conversation=conv_id,
        tools=[{"type": "code_interpreter", "container": cid}],
        include=["code_interpreter_call.outputs"],
    )
    page = await raw_get(openai_fake, f"/conversations/{conv_id}/items?order=asc&limit=100")
    assert_page(page, ITEM_ADAPTER)
    assert {item["type"] for item in page["data"]} == {"message", "code_interpreter_call"}
    deleted = body(await openai_client.conversations.with_raw_response.delete(conv_id))
    assert_shape(ConversationDeletedResource, deleted)


# ---------------------------------------------------------------- responses and events


async def run_all_kinds_of_responses(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> list[Any]:
    """Runs that between them emit every event type and response state the fake has."""
    cid, file_id = await container_with_file(openai_client)
    tools: Any = [{"type": "code_interpreter", "container": cid}]
    snapshots = []
    stream = await openai_client.responses.create(
        model="gpt-5.6",
        input="a chart and a table please",
        tools=tools,
        background=True,
        stream=True,
        include=["code_interpreter_call.outputs"],
        metadata={"turn": "1"},
    )
    events = [event async for event in stream]
    response_id = events[0].response.id
    snapshots.append(await raw_get(openai_fake, f"/responses/{response_id}"))
    foreground = await openai_client.responses.with_raw_response.create(
        model="gpt-5.6",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "totals"}]}],
        instructions="Read /mnt/data files.",
        tools=[
            {
                "type": "code_interpreter",
                "container": {"type": "auto", "file_ids": [file_id], "memory_limit": "4g"},
            }
        ],
    )
    snapshots.append(body(foreground))
    openai_fake.fail_next_response(code="server_error", message="boom")
    stream = await openai_client.responses.create(
        model="gpt-5.6", input="x", tools=tools, stream=True
    )
    _ = [event async for event in stream]
    stream = await openai_client.responses.create(
        model="gpt-5.6", input="long answer", tools=tools, stream=True, max_output_tokens=300
    )
    _ = [event async for event in stream]
    openai_fake.run_delay_s = 5
    queued = await openai_client.responses.with_raw_response.create(
        model="gpt-5.6", input="x", tools=tools, background=True
    )
    snapshots.append(body(queued))
    cancelled = await openai_client.responses.with_raw_response.cancel(body(queued)["id"])
    snapshots.append(body(cancelled))
    return snapshots


async def test_responses_and_stream_events_match_sdk_models(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    snapshots = await run_all_kinds_of_responses(openai_client, openai_fake)
    statuses = [assert_shape(Response, raw).status for raw in snapshots]
    assert statuses == ["completed", "completed", "queued", "cancelled"]
    for event in openai_fake.emitted:
        assert_shape(EVENT_ADAPTER, event, event["type"])
        if "response" in event:
            assert_shape(Response, event["response"], event["type"])
    types = {event["type"] for event in openai_fake.emitted}
    assert {
        "response.failed",
        "response.incomplete",
        "response.output_text.annotation.added",
        "response.code_interpreter_call_code.delta",
        "response.completed",
    } <= types
    outputs = [e["item"] for e in openai_fake.emitted if e["type"] == "response.output_item.done"]
    assert any(item.get("outputs") for item in outputs)


async def test_sse_frames_name_the_event_type_of_their_data(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    cid, _ = await container_with_file(openai_client)
    response = await openai_client.responses.create(
        model="gpt-5.6",
        input="chart",
        background=True,
        tools=[{"type": "code_interpreter", "container": cid}],
    )
    headers = {"authorization": f"Bearer {openai_fake.api_key}"}
    url = f"{openai_fake.base_url}/responses/{response.id}?stream=true&starting_after=2"
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-request-id"].startswith("req_")
        text = await r.text()
    frames = [f for f in text.split("\n\n") if f]
    numbers = []
    for frame in frames:
        event_line, data_line = frame.split("\n")
        data = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {data['type']}"
        assert_shape(EVENT_ADAPTER, data, data["type"])
        numbers.append(data["sequence_number"])
    assert numbers == list(range(3, 3 + len(frames)))


async def test_error_envelopes_match_the_sdk_error_object(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    envelopes = [
        await raw_get(openai_fake, "/files/file-missing"),
        await raw_get(openai_fake, "/nowhere"),
    ]
    openai_fake.fail_next(
        "GET", "/v1/containers", status=429, code="rate_limit_exceeded", retry_after=1
    )
    envelopes.append(await raw_get(openai_fake, "/containers"))
    bad = AsyncOpenAI(base_url=openai_fake.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        await bad.containers.list()
    await bad.close()
    envelopes.append(caught.value.response.json())
    for envelope in envelopes:
        assert set(envelope) == {"error"}
        assert set(envelope["error"]) == {"message", "type", "param", "code"}
        assert_shape(ErrorObject, envelope["error"])
    assert envelopes[-1]["error"]["code"] == "invalid_api_key"


# ---------------------------------------------------------------- the OpenAPI spec


@cache
def spec_text() -> str:
    return SPEC.read_text()


@cache
def spec_schema(name: str) -> dict[str, Any]:
    """One component schema, parsed from its own block (parsing the whole 3 MB spec is slow)."""
    text = spec_text()
    start = text.index(f"\n    {name}:\n", text.index("\n  schemas:\n")) + 1
    end = re.compile(r"\n {4}\S").search(text, start + 1)
    block = text[start : end.start() if end else len(text)]
    schema: dict[str, Any] = yaml.safe_load(block)[name]
    return schema


def required_and_known(name: str) -> tuple[set[str], set[str]]:
    schema = spec_schema(name)
    required, known = set(schema.get("required", [])), set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            sub_required, sub_known = required_and_known(part["$ref"].rsplit("/", 1)[-1])
        else:
            sub_required, sub_known = set(part.get("required", [])), set(part.get("properties", {}))
        required |= sub_required
        known |= sub_known
    return required, known


@pytest.mark.skipif(not SPEC.exists(), reason="the OpenAPI spec is not available")
async def test_top_level_objects_follow_the_openapi_spec(
    openai_client: AsyncOpenAI, openai_fake: FakeOpenAI
) -> None:
    cid, file_id = await container_with_file(openai_client)
    conv = await openai_client.conversations.create()
    response = await openai_client.responses.create(
        model="gpt-5.6",
        input="chart",
        conversation=conv.id,
        tools=[{"type": "code_interpreter", "container": cid}],
    )
    cfile = (await openai_client.containers.files.list(cid)).data[0]
    upload = await openai_client.uploads.create(
        bytes=1, filename="a.csv", mime_type="text/csv", purpose="user_data"
    )
    part = await openai_client.uploads.parts.create(upload.id, data=b"x")
    samples = {
        "OpenAIFile": f"/files/{file_id}",
        "ContainerResource": f"/containers/{cid}",
        "ContainerFileResource": f"/containers/{cid}/files/{cfile.id}",
        "ConversationResource": f"/conversations/{conv.id}",
        "ConversationItemList": f"/conversations/{conv.id}/items",
        "Response": f"/responses/{response.id}",
    }
    bodies = {name: await raw_get(openai_fake, path) for name, path in samples.items()}
    bodies["UploadPart"] = part.model_dump()
    bodies["Upload"] = (
        await openai_client.uploads.with_raw_response.complete(upload.id, part_ids=[part.id])
    ).http_response.json()
    for name, raw in bodies.items():
        required, known = required_and_known(name)
        assert required <= set(raw), f"{name} lacks {required - set(raw)}"
        assert set(raw) <= known, f"{name} has keys the spec lacks: {set(raw) - known}"
