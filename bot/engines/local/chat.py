"""The local engine's gateway to a Chat Completions server (Ollama, vLLM, llama.cpp, LM Studio,
or OpenAI): the one place it touches the openai SDK.

Streamed chunks are translated into our own small pieces (text, tool-call fragments, usage,
the finish reason); SDK errors into our error tree. The client is built with the local key
only: it never falls back to OPENAI_API_KEY from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from bot.config import Settings
from bot.engines.openai import engine_error_from
from bot.errors import EngineBadRequest
from bot.types import Usage

# Sent when no INSIGHTBOT_LOCAL_API_KEY is set: servers that want no key ignore it, and the
# SDK would otherwise read OPENAI_API_KEY from the environment and send that.
NO_KEY = "no-key"
# A local model may think for minutes before its first token on a CPU.
_TIMEOUT = openai.Timeout(600.0, connect=10.0)


@dataclass(frozen=True)
class ChatText:
    text: str


@dataclass(frozen=True)
class ChatToolFragment:
    """A piece of one tool call: ``index`` says which; id and name come with the first piece."""

    index: int
    call_id: str | None
    name: str | None
    arguments: str


@dataclass(frozen=True)
class ChatUsage:
    usage: Usage


@dataclass(frozen=True)
class ChatFinish:
    reason: str


ChatPiece = ChatText | ChatToolFragment | ChatUsage | ChatFinish


@dataclass(frozen=True)
class ToolProbe:
    """What one tiny completion with the ``python`` tool showed."""

    called_tool: bool


def build_chat_client(settings: Settings) -> openai.AsyncOpenAI:
    """A client for INSIGHTBOT_LOCAL_BASE_URL carrying only INSIGHTBOT_LOCAL_API_KEY."""
    key = settings.local_api_key.reveal() if settings.local_api_key else NO_KEY
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=settings.local_base_url,
        organization=None,
        project=None,
        timeout=_TIMEOUT,
    )


async def stream_chat(
    client: openai.AsyncOpenAI,
    *,
    model: str,
    messages: Sequence[dict[str, Any]],
    tools: Sequence[dict[str, Any]],
) -> AsyncIterator[ChatPiece]:
    """Stream one completion as pieces; usage comes last when the server reports it.

    Raises EngineError subclasses.
    """
    # Our messages are plain JSON dicts; the SDK's TypedDicts describe the same shapes.
    sent: Any = list(messages)
    offered: Any = list(tools)
    try:
        stream = await client.chat.completions.create(
            model=model,
            messages=sent,
            tools=offered,
            tool_choice="auto",
            stream=True,
            stream_options={"include_usage": True},
        )
        async with stream:
            async for chunk in stream:
                for piece in _pieces_of(chunk):
                    yield piece
    except openai.OpenAIError as err:
        raise engine_error_from(err) from err


def _detail(usage: Any, details: str, name: str) -> int:
    # Servers that report no details (most local ones) leave these out or null.
    value = getattr(getattr(usage, details, None), name, None)
    return value if isinstance(value, int) else 0


def _pieces_of(chunk: Any) -> list[ChatPiece]:
    pieces: list[ChatPiece] = []
    if chunk.usage is not None:
        pieces.append(
            ChatUsage(
                Usage(
                    input_tokens=chunk.usage.prompt_tokens or 0,
                    output_tokens=chunk.usage.completion_tokens or 0,
                    total_tokens=chunk.usage.total_tokens or 0,
                    cached_input_tokens=_detail(
                        chunk.usage, "prompt_tokens_details", "cached_tokens"
                    ),
                    reasoning_tokens=_detail(
                        chunk.usage, "completion_tokens_details", "reasoning_tokens"
                    ),
                )
            )
        )
    for choice in chunk.choices or ():
        if choice.index != 0:
            continue
        delta = choice.delta
        if delta is not None and delta.content:
            pieces.append(ChatText(delta.content))
        for call in (delta.tool_calls if delta is not None else None) or ():
            function = call.function
            pieces.append(
                ChatToolFragment(
                    index=call.index,
                    call_id=call.id or None,
                    name=(function.name or None) if function else None,
                    arguments=(function.arguments or "") if function else "",
                )
            )
        if choice.finish_reason:
            pieces.append(ChatFinish(choice.finish_reason))
    return pieces


async def probe_tools(
    client: openai.AsyncOpenAI, *, model: str, tools: Sequence[dict[str, Any]]
) -> ToolProbe:
    """One tiny completion offering ``tools``: did the model call one?

    Raises EngineBadRequest (with the server's words) when the server refuses tools, other
    EngineError subclasses when it cannot be reached or refuses the key.
    """
    offered: Any = list(tools)
    try:
        completion = await client.chat.completions.create(
            model=model,
            messages=[
                {
                    "role": "user",
                    "content": "Call the python tool with the code 1+1. Do not answer in text.",
                }
            ],
            tools=offered,
            tool_choice="auto",
        )
    except openai.OpenAIError as err:
        raise engine_error_from(err) from err
    if not completion.choices:
        raise EngineBadRequest(detail="the server answered without choices")
    message = completion.choices[0].message
    return ToolProbe(called_tool=bool(message.tool_calls))


async def model_ids(client: openai.AsyncOpenAI) -> list[str]:
    """The models the server lists (GET /models). Raises EngineError subclasses."""
    try:
        page = await client.models.list()
    except openai.OpenAIError as err:
        raise engine_error_from(err) from err
    return [model.id async for model in page]


class ChatModel:
    """The model server of ``settings`` (INSIGHTBOT_LOCAL_*) with its own HTTP client."""

    def __init__(self, settings: Settings) -> None:
        self.model = settings.local_model or ""
        self.base_url = settings.local_base_url
        self._client = build_chat_client(settings)

    def stream(
        self, messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]
    ) -> AsyncIterator[ChatPiece]:
        """See ``stream_chat``."""
        return stream_chat(self._client, model=self.model, messages=messages, tools=tools)

    async def probe(self, tools: Sequence[dict[str, Any]]) -> ToolProbe:
        """See ``probe_tools``."""
        return await probe_tools(self._client, model=self.model, tools=tools)

    async def models(self) -> list[str]:
        """See ``model_ids``."""
        return await model_ids(self._client)

    async def aclose(self) -> None:
        await self._client.close()
