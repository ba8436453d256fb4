"""The /v1/responses endpoints of the fake OpenAI server: create, retrieve (JSON or SSE
replay), cancel, delete; plus the checks the real API makes before a run starts."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakes.openai_containers import add_container_file, live_container, new_container
from tests.fakes.openai_conversations import conversation
from tests.fakes.openai_files import stored_file
from tests.fakes.openai_runs import TERMINAL, ResponseRun, execute
from tests.fakes.openai_state import (
    REQUEST_ID,
    ApiError,
    ContainerState,
    Json,
    body_json,
    fake_of,
    new_id,
    required,
)

if TYPE_CHECKING:
    from tests.fakes.openai_server import FakeOpenAI


# ---------------------------------------------------------------- creating a run


def check_conversation_containers(fake: FakeOpenAI, conversation_id: str) -> None:
    """400 when the conversation holds code_interpreter_call items of a gone container."""
    for item in fake.conversations[conversation_id].items:
        if item.get("type") != "code_interpreter_call":
            continue
        container = fake.containers.get(item.get("container_id", ""))
        if container is not None and (container.expired or container.deleted):
            raise ApiError(
                400,
                f"Container {container.id} is expired; the conversation {conversation_id} "
                f"refers to it in item {item['id']}. Start a new conversation or remove the "
                "items that use it.",
                param="conversation",
            )


async def resolve_container(
    fake: FakeOpenAI, *, tool: Json, conversation_id: str | None
) -> ContainerState:
    spec = tool.get("container")
    if isinstance(spec, str):
        return live_container(fake, spec)
    if not isinstance(spec, dict) or spec.get("type") != "auto":
        raise ApiError(400, "Missing required parameter: 'tools[0].container'.", param="tools")
    files = [stored_file(fake, file_id) for file_id in spec.get("file_ids") or []]
    container = _reusable_container(fake, conversation_id) or new_container(
        fake,
        name="code_interpreter auto container",
        memory_limit=spec.get("memory_limit") or "1g",
    )
    present = {f.name for f in container.files.values()}
    for file in files:
        if file.filename not in present:
            await add_container_file(container, name=file.filename, source="user", src=file.path)
    return container


def _reusable_container(fake: FakeOpenAI, conversation_id: str | None) -> ContainerState | None:
    state = fake.conversations.get(conversation_id or "")
    for item in reversed(state.items if state else []):
        container = fake.containers.get(item.get("container_id", ""))
        usable = container is not None and not (container.expired or container.deleted)
        if item.get("type") == "code_interpreter_call" and usable:
            return container
    return None


def history_length(fake: FakeOpenAI, body: Json, conversation_id: str | None) -> int:
    """Items the run continues from; raises the API's errors for a bad conversation/chain."""
    previous = body.get("previous_response_id")
    if conversation_id and previous:
        raise ApiError(
            400,
            "Mutually exclusive parameters: 'previous_response_id' and 'conversation'.",
            param="conversation",
        )
    if conversation_id:
        items = conversation(fake, conversation_id).items
        check_conversation_containers(fake, conversation_id)
        return len(items)
    if previous:
        if previous not in fake.responses:
            raise ApiError(
                404,
                f"Previous response with id '{previous}' not found.",
                param="previous_response_id",
            )
        return fake.responses[previous].history_length + 1
    return 0


async def create_run(fake: FakeOpenAI, body: Json) -> ResponseRun:
    """Check the request like the real API, then start the run as a tracked server task."""
    required(body, "model")
    background = bool(body.get("background"))
    if background and body.get("store") is False:
        raise ApiError(400, "Background mode requires 'store' to be true.", param="background")
    conv = body.get("conversation")
    conversation_id = conv.get("id") if isinstance(conv, dict) else conv
    history = history_length(fake, body, conversation_id)
    container: ContainerState | None = None
    tools = list(body.get("tools") or [])
    for tool in tools:
        if tool.get("type") == "code_interpreter":
            container = await resolve_container(fake, tool=tool, conversation_id=conversation_id)
    run = ResponseRun(
        id=new_id("resp_"),
        request=body,
        background=background,
        tools=tools,
        container_id=container.id if container else None,
        conversation_id=conversation_id,
        history_length=history,
        forced_failure=fake.take_forced_failure(),
        status="queued" if background else "in_progress",
    )
    fake.responses[run.id] = run
    run.task = fake.track(asyncio.create_task(execute(fake, run)))
    return run


# ---------------------------------------------------------------- HTTP handlers


def sse_bytes(event: Json) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


async def stream_run(
    request: web.Request, run: ResponseRun, *, starting_after: int | None
) -> web.StreamResponse:
    """SSE: the run's events after ``starting_after``, following the run until it ends."""
    fake = fake_of(request)
    cut = fake.take_stream_cut()
    response = web.StreamResponse(
        headers={
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "x-request-id": request[REQUEST_ID],
        }
    )
    await response.prepare(request)
    index = 0 if starting_after is None else starting_after + 1
    sent = 0
    while (event := await run.next_event(index)) is not None:
        index += 1
        try:
            await response.write(sse_bytes(event))
        except (ConnectionError, RuntimeError):
            return response  # the client went away; the run goes on
        fake.emitted.append(event)
        sent += 1
        if cut is not None and sent >= cut.n_events:
            if cut.abrupt and request.transport is not None:
                request.transport.close()
            return response
    await response.write_eof()
    return response


async def create_response(request: web.Request) -> web.StreamResponse:
    fake = fake_of(request)
    run = await create_run(fake, body_json(request))
    if body_json(request).get("stream"):
        return await stream_run(request, run, starting_after=None)
    if not run.background and run.task is not None:
        await asyncio.shield(run.task)
    return web.json_response(run.snapshot())


def find_run(request: web.Request) -> ResponseRun:
    response_id = request.match_info["response_id"]
    run = fake_of(request).responses.get(response_id)
    if run is None:
        raise ApiError(404, f"Response with id '{response_id}' not found.")
    return run


async def retrieve_response(request: web.Request) -> web.StreamResponse:
    run = find_run(request)
    if request.query.get("stream") == "true":
        after = request.query.get("starting_after")
        return await stream_run(request, run, starting_after=int(after) if after else None)
    return web.json_response(run.snapshot())


async def cancel_response(request: web.Request) -> web.Response:
    run = find_run(request)
    if not run.background:
        raise ApiError(
            400, "Responses can only be cancelled if they were created with background=true."
        )
    if run.status not in TERMINAL and run.task is not None:
        run.task.cancel()
        await asyncio.gather(run.task, return_exceptions=True)
    return web.json_response(run.snapshot())


async def delete_response(request: web.Request) -> web.Response:
    run = find_run(request)
    if run.task is not None and not run.task.done():
        run.task.cancel()
    del fake_of(request).responses[run.id]
    return web.json_response({"id": run.id, "object": "response", "deleted": True})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/responses", create_response)
    app.router.add_get("/v1/responses/{response_id}", retrieve_response)
    app.router.add_delete("/v1/responses/{response_id}", delete_response)
    app.router.add_post("/v1/responses/{response_id}/cancel", cancel_response)
