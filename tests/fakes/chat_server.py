"""A fake Chat Completions server on 127.0.0.1 (what Ollama, vLLM or OpenAI serve at /v1):
POST /v1/chat/completions (streamed with SSE, or not) and GET /v1/models.

Its "model" is a script: a function from the question and the tool results so far (the
kernel's real output) to the next reply, either text or one call of the ``python`` tool with
real code. Streams are cut the way OpenAI cuts them: a first chunk with the role, content or
tool-call argument pieces, a chunk with ``finish_reason``, a usage chunk with no choices when
``stream_options.include_usage``, then ``data: [DONE]``. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

MODEL = "qwen2.5-coder:7b"


@dataclass(frozen=True)
class Reply:
    """What the scripted model says next: ``code`` makes it a ``python`` tool call."""

    text: str = ""
    code: str | None = None


@dataclass(frozen=True)
class Turn:
    """What the script sees: the latest question and the tool results that followed it."""

    question: str
    results: list[str]
    messages: list[dict[str, Any]]


Script = Callable[[Turn], Reply]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    raw: str
    body: Any


def answer_with(text: str) -> Script:
    return lambda _turn: Reply(text=text)


@dataclass
class FakeChat:
    script: Script = field(default_factory=lambda: answer_with("Hello."))
    tools_supported: bool = True
    piece_chars: int = 12
    chunk_delay_s: float = 0.0
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def completions(self, *, streamed: bool | None = None) -> list[Seen]:
        return [
            r
            for r in self.requests
            if r.path == "/v1/chat/completions"
            and (streamed is None or bool(r.body.get("stream")) == streamed)
        ]

    async def __aenter__(self) -> FakeChat:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- routes ----------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        self._record(request, "")
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": MODEL, "object": "model", "created": 1700000000, "owned_by": "library"}
                ],
            }
        )

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        self._record(request, raw)
        body = json.loads(raw)
        if body.get("tools") and not self.tools_supported:
            # Ollama's words for a model without tool support, in the OpenAI error shape.
            return web.json_response(
                {
                    "error": {
                        "message": f"registry.ollama.ai/library/{body['model']} does not support tools",
                        "type": "api_error",
                        "param": None,
                        "code": None,
                    }
                },
                status=400,
            )
        if not body.get("stream"):
            return web.json_response(_completion(body["model"], Reply(code="1+1")))
        reply = self.script(_turn_of(body["messages"]))
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in _chunks(body["model"], reply, piece=self.piece_chars, usage=usage):
            await response.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _record(self, request: web.Request, raw: str) -> None:
        body = json.loads(raw) if raw else None
        self.requests.append(Seen(request.method, request.path, dict(request.headers), raw, body))


def _turn_of(messages: list[dict[str, Any]]) -> Turn:
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    results = [m["content"] for m in messages[last_user:] if m["role"] == "tool"]
    return Turn(question=messages[last_user]["content"], results=results, messages=messages)


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _chunks(model: str, reply: Reply, *, piece: int, usage: bool) -> list[dict[str, Any]]:
    ident = f"chatcmpl-{secrets.token_hex(12)}"
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if usage:
            out["usage"] = None
        return out

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    chunks += [chunk({"content": part}) for part in _pieces(reply.text, piece) if part]
    if reply.code is not None:
        arguments = json.dumps({"code": reply.code}, ensure_ascii=False)
        call_id = f"call_{secrets.token_hex(12)}"
        first = {
            "index": 0,
            "id": call_id,
            "type": "function",
            "function": {"name": "python", "arguments": ""},
        }
        chunks.append(chunk({"tool_calls": [first]}))
        chunks += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
            for part in _pieces(arguments, piece)
        ]
    chunks.append(chunk({}, "tool_calls" if reply.code is not None else "stop"))
    if usage:
        prompt, completion = 120, max(1, (len(reply.text) + len(reply.code or "")) // 4)
        chunks.append(
            {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": completion,
                    "total_tokens": prompt + completion,
                },
            }
        )
    return chunks


def _completion(model: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
    if reply.code is not None:
        message["tool_calls"] = [
            {
                "id": f"call_{secrets.token_hex(12)}",
                "type": "function",
                "function": {"name": "python", "arguments": json.dumps({"code": reply.code})},
            }
        ]
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if reply.code is not None else "stop",
            }
        ],
        "usage": {"prompt_tokens": 60, "completion_tokens": 8, "total_tokens": 68},
    }
