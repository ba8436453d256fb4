"""One response of the fake OpenAI server: a server-side task whose events are kept.

A run emits the events of the real API in its order (see ``execute``); every event is kept
on the ``ResponseRun`` so ``GET /v1/responses/{id}?stream=true&starting_after=N`` can replay
and follow it, whatever happened to the connection that created it.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import math
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.openai_containers import add_container_file
from tests.fakes.openai_conversations import conversation_items
from tests.fakes.openai_model import (
    ModelArtifact,
    ModelContext,
    ModelFailure,
    ModelFile,
    ModelResult,
)
from tests.fakes.openai_state import Json, VirtualContent, new_id, now

if TYPE_CHECKING:
    from tests.fakes.openai_server import FakeOpenAI

log = logging.getLogger(__name__)
OUTPUTS_INCLUDE = "code_interpreter_call.outputs"
TERMINAL = {"completed", "failed", "cancelled", "incomplete"}


@dataclass
class ResponseRun:
    """A response and everything it emitted; ``events[i]["sequence_number"] == i``."""

    id: str
    request: Json
    background: bool
    tools: list[Json]
    container_id: str | None
    conversation_id: str | None
    history_length: int
    forced_failure: ModelFailure | None = None
    created_at: int = field(default_factory=now)
    status: str = "queued"
    output: list[Json] = field(default_factory=list)
    usage: Json | None = None
    error: Json | None = None
    incomplete_details: Json | None = None
    completed_at: int | None = None
    events: list[Json] = field(default_factory=list)
    finished: bool = False
    task: asyncio.Task[None] | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @property
    def include_outputs(self) -> bool:
        return OUTPUTS_INCLUDE in (self.request.get("include") or [])

    def snapshot(self) -> Json:
        req = self.request
        return copy.deepcopy(
            {
                "id": self.id,
                "object": "response",
                "created_at": self.created_at,
                "status": self.status,
                "background": self.background,
                "completed_at": self.completed_at,
                "conversation": {"id": self.conversation_id} if self.conversation_id else None,
                "error": self.error,
                "incomplete_details": self.incomplete_details,
                "instructions": req.get("instructions"),
                "max_output_tokens": req.get("max_output_tokens"),
                "max_tool_calls": req.get("max_tool_calls"),
                "model": req["model"],
                "output": self.output,
                "parallel_tool_calls": req.get("parallel_tool_calls", True),
                "previous_response_id": req.get("previous_response_id"),
                "prompt_cache_key": req.get("prompt_cache_key"),
                "reasoning": {"effort": None, "summary": None},
                "safety_identifier": req.get("safety_identifier"),
                "service_tier": "default",
                "temperature": 1.0,
                "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tool_choice": req.get("tool_choice", "auto"),
                "tools": self.tools,
                "top_p": 1.0,
                "truncation": req.get("truncation", "disabled"),
                "usage": self.usage,
                "user": None,
                "metadata": req.get("metadata") or {},
            }
        )

    async def emit(self, fake: FakeOpenAI, event: Json) -> None:
        event["sequence_number"] = len(self.events)
        self.events.append(event)
        async with self.changed:
            self.changed.notify_all()
        if fake.event_delay_s:
            await asyncio.sleep(fake.event_delay_s)

    async def next_event(self, index: int) -> Json | None:
        """The event numbered ``index``, waiting for it; None once the run ended before it."""
        async with self.changed:
            await self.changed.wait_for(lambda: len(self.events) > index or self.finished)
        return self.events[index] if index < len(self.events) else None

    async def finish(self) -> None:
        self.finished = True
        async with self.changed:
            self.changed.notify_all()


# ---------------------------------------------------------------- the run


async def execute(fake: FakeOpenAI, run: ResponseRun) -> None:
    """Emit the run's events; on completion append its items to the conversation."""
    try:
        await run.emit(fake, {"type": "response.created", "response": run.snapshot()})
        run.status = "in_progress"
        await run.emit(fake, {"type": "response.in_progress", "response": run.snapshot()})
        if fake.run_delay_s:
            await asyncio.sleep(fake.run_delay_s)
        context = model_context(fake, run)
        fake.model_calls.append(context)
        try:
            result = await asyncio.to_thread(fake.model, context)
        except Exception as exc:
            log.exception("scripted model raised")
            result = ModelResult(text="", failure=ModelFailure(message=f"model raised: {exc!r}"))
        failure = run.forced_failure or result.failure
        citations = await emit_code_item(fake, run, result) if result.code is not None else []
        if failure is not None:
            await end_run(fake, run, status="failed", error=failure, result=result)
            return
        text, truncated = within_budget(result, run.request.get("max_output_tokens"))
        await emit_message(fake, run, text=text, citations=citations, complete=not truncated)
        await end_run(fake, run, status="incomplete" if truncated else "completed", result=result)
    except asyncio.CancelledError:
        run.status = "cancelled"
        raise
    except Exception:
        log.exception("fake run %s crashed", run.id)
        run.status = "failed"
        run.error = {"code": "server_error", "message": "The fake server crashed."}
    finally:
        await run.finish()


def within_budget(result: ModelResult, budget: int | None) -> tuple[str, bool]:
    """The answer text cut to ``max_output_tokens`` (4 characters a token), and whether it was."""
    code = result.code or ""
    if budget is None or _tokens(result.text + code) <= budget:
        return result.text, False
    return result.text[: max(0, budget * 4 - len(code))], True


def model_context(fake: FakeOpenAI, run: ResponseRun) -> ModelContext:
    container = fake.containers.get(run.container_id or "")
    files = [
        ModelFile(
            file_id=f.id,
            name=f.name,
            container_path=f.path,
            source=f.source,
            disk_path=f.disk_path,
        )
        for f in (container.files.values() if container else [])
    ]
    return ModelContext(
        response_id=run.id,
        question=question_text(run.request.get("input")),
        instructions=run.request.get("instructions"),
        input=run.request.get("input"),
        tools=list(run.request.get("tools") or []),
        container_id=run.container_id,
        conversation_id=run.conversation_id,
        history_length=run.history_length,
        files=files,
    )


def question_text(raw: Any) -> str:
    """The text of the last user message in a Responses ``input``."""
    if isinstance(raw, str):
        return raw
    for item in reversed(raw or []):
        if item.get("role") != "user":
            continue
        content = item.get("content")
        if isinstance(content, str):
            return content
        return "\n".join(p.get("text", "") for p in content or [] if "text" in p)
    return ""


def _chunks(text: str, *, pieces: int) -> list[str]:
    size = max(8, math.ceil(len(text) / pieces))
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _tokens(text: str) -> int:
    return len(text) // 4 + 1


async def emit_code_item(fake: FakeOpenAI, run: ResponseRun, result: ModelResult) -> list[Json]:
    """The code_interpreter_call item's events; returns the citations for its artifacts."""
    code = result.code or ""
    index = len(run.output)
    item: Json = {
        "id": new_id("ci_"),
        "type": "code_interpreter_call",
        "status": "in_progress",
        "code": "",
        "container_id": run.container_id or "",
        "outputs": None,
    }
    run.output.append(item)
    ref = {"item_id": item["id"], "output_index": index}
    await run.emit(
        fake,
        {"type": "response.output_item.added", "output_index": index, "item": copy.deepcopy(item)},
    )
    await run.emit(fake, {"type": "response.code_interpreter_call.in_progress", **ref})
    for piece in _chunks(code, pieces=4):
        item["code"] += piece
        await run.emit(
            fake, {"type": "response.code_interpreter_call_code.delta", "delta": piece, **ref}
        )
    await run.emit(fake, {"type": "response.code_interpreter_call_code.done", "code": code, **ref})
    item["status"] = "interpreting"
    await run.emit(fake, {"type": "response.code_interpreter_call.interpreting", **ref})
    citations = await save_artifacts(fake, run, result)
    item["status"] = "completed"
    if run.include_outputs and result.logs is not None:
        item["outputs"] = [{"type": "logs", "logs": result.logs}]
    await run.emit(fake, {"type": "response.code_interpreter_call.completed", **ref})
    await run.emit(
        fake,
        {"type": "response.output_item.done", "output_index": index, "item": copy.deepcopy(item)},
    )
    return citations


async def save_artifacts(fake: FakeOpenAI, run: ResponseRun, result: ModelResult) -> list[Json]:
    container = fake.containers.get(run.container_id or "")
    if container is None or container.expired or container.deleted:
        return []
    citations = []
    for artifact in result.artifacts:
        name = posixpath.basename(artifact.path)
        src = artifact.data if artifact.size is None else virtual_content_for(artifact)
        file = await add_container_file(
            container,
            name=name,
            source="assistant",
            src=src,
            path=artifact.path,
            declared_bytes=artifact.declared_bytes,
        )
        if artifact.cite:
            citations.append(
                {
                    "type": "container_file_citation",
                    "container_id": container.id,
                    "file_id": file.id,
                    "filename": name,
                    "path": artifact.path,
                }
            )
    return citations


def virtual_content_for(artifact: ModelArtifact) -> VirtualContent:
    """The made-up content of a sized artifact (the same bytes for the same path and size)."""
    assert artifact.size is not None
    seed = int.from_bytes(hashlib.sha256(artifact.path.encode()).digest()[:8], "big")
    return VirtualContent(artifact.size, seed=seed)


async def emit_message(
    fake: FakeOpenAI, run: ResponseRun, *, text: str, citations: list[Json], complete: bool
) -> None:
    index = len(run.output)
    part: Json = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    item: Json = {
        "id": new_id("msg_"),
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    run.output.append(item)
    ref = {"item_id": item["id"], "output_index": index, "content_index": 0}
    await run.emit(
        fake,
        {"type": "response.output_item.added", "output_index": index, "item": copy.deepcopy(item)},
    )
    item["content"].append(part)
    await run.emit(
        fake, {"type": "response.content_part.added", "part": copy.deepcopy(part), **ref}
    )
    for piece in _chunks(text, pieces=10):
        part["text"] += piece
        await run.emit(
            fake, {"type": "response.output_text.delta", "delta": piece, "logprobs": [], **ref}
        )
    for number, citation in enumerate(citations):
        annotation = _annotation(citation, text)
        part["annotations"].append(annotation)
        await run.emit(
            fake,
            {
                "type": "response.output_text.annotation.added",
                "annotation_index": number,
                "annotation": copy.deepcopy(annotation),
                **ref,
            },
        )
    await run.emit(fake, {"type": "response.output_text.done", "text": text, "logprobs": [], **ref})
    await run.emit(fake, {"type": "response.content_part.done", "part": copy.deepcopy(part), **ref})
    item["status"] = "completed" if complete else "incomplete"
    await run.emit(
        fake,
        {"type": "response.output_item.done", "output_index": index, "item": copy.deepcopy(item)},
    )


def _annotation(citation: Json, text: str) -> Json:
    """Cites the ``sandbox:<path>`` link target when the text has one, else the text's end."""
    target = f"sandbox:{citation['path']}"
    start = text.find(target)
    start, end = (start, start + len(target)) if start >= 0 else (len(text), len(text))
    return {
        "type": "container_file_citation",
        "container_id": citation["container_id"],
        "end_index": end,
        "file_id": citation["file_id"],
        "filename": citation["filename"],
        "start_index": start,
    }


async def end_run(
    fake: FakeOpenAI,
    run: ResponseRun,
    *,
    status: str,
    result: ModelResult,
    error: ModelFailure | None = None,
) -> None:
    input_tokens = 200 + 40 * run.history_length + _tokens(json.dumps(run.request.get("input")))
    output_tokens = _tokens(result.text + (result.code or "")) + fake.reasoning_tokens
    run.usage = {
        "input_tokens": input_tokens,
        "input_tokens_details": {
            "cached_tokens": min(fake.cached_tokens, input_tokens),
            "cache_write_tokens": 0,
        },
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": fake.reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }
    run.status = status
    if error is not None:
        run.error = {"code": error.code, "message": error.message}
    if status == "incomplete":
        run.incomplete_details = {"reason": "max_output_tokens"}
    if status == "completed":
        run.completed_at = now()
        append_to_conversation(fake, run)
    await run.emit(fake, {"type": f"response.{status}", "response": run.snapshot()})


def append_to_conversation(fake: FakeOpenAI, run: ResponseRun) -> None:
    state = fake.conversations.get(run.conversation_id or "")
    if state is None:
        return
    state.items.extend(conversation_items(run.request.get("input")))
    state.items.extend(copy.deepcopy(run.output))
