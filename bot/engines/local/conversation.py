"""The local engine's conversation with the model (pure): the ``python`` tool, what a cell's
result looks like to the model, tool calls put together from streamed fragments, and the
history trimmed to the context budget.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.engines.local.kernel import CellResult
from bot.engines.local.limits import trimmed

Message = dict[str, Any]

TOOL_NAME = "python"
TOOL_OUTPUT_CHARS = 8000
CHARS_PER_TOKEN = 4

PYTHON_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": (
            "Run Python code in this thread's Jupyter kernel (state is kept between calls). "
            "The thread's files are in /mnt/data; save charts and files there. Returns "
            "stdout, stderr, the value of the last line, errors with their traceback, and the "
            "names of the files the code wrote."
        ),
        "parameters": {
            "type": "object",
            "properties": {"code": {"type": "string", "description": "The Python code to run."}},
            "required": ["code"],
        },
    },
}

STATE_RESET_NOTE = (
    "[The Python kernel was restarted before this code ran: variables from before are gone; "
    "the thread's files are back in /mnt/data.]"
)


@dataclass
class ToolCall:
    """One tool call as the stream built it up."""

    call_id: str
    name: str = ""
    arguments: str = ""


@dataclass
class ToolCalls:
    """Tool calls assembled from streamed fragments, in the order of their index."""

    by_index: dict[int, ToolCall] = field(default_factory=dict)

    def add(self, *, index: int, call_id: str | None, name: str | None, arguments: str) -> bool:
        """Add one fragment; True when it starts a new call."""
        call = self.by_index.get(index)
        new = call is None
        if call is None:
            call = self.by_index[index] = ToolCall(call_id=call_id or f"call_{index}")
        # The id and name come whole with a call's first fragment; later ones carry arguments.
        if name and not call.name:
            call.name = name
        call.arguments += arguments
        return new

    def calls(self) -> list[ToolCall]:
        return [self.by_index[i] for i in sorted(self.by_index)]


def code_of(call: ToolCall) -> tuple[str | None, str | None]:
    """(code, None) for a well-formed ``python`` call, else (None, what to tell the model)."""
    if call.name != TOOL_NAME:
        return None, f"There is no tool named {call.name!r}; the only tool is {TOOL_NAME!r}."
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as err:
        return None, f'The arguments were not valid JSON ({err}); send {{"code": "..."}}.'
    code = arguments.get("code") if isinstance(arguments, dict) else None
    if not isinstance(code, str) or not code.strip():
        return None, 'The arguments need a non-empty string "code".'
    return code, None


def assistant_message(text: str, calls: Sequence[ToolCall]) -> Message:
    """The model's message as it goes back into the conversation."""
    message: Message = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments or "{}"},
            }
            for call in calls
        ]
    return message


def tool_message(call_id: str, content: str) -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def cell_report(result: CellResult, *, state_reset: bool = False) -> str:
    """What the model reads about one cell: output, value, error, files; head and tail kept."""
    parts: list[str] = []
    if state_reset or result.state_reset:
        parts.append(STATE_RESET_NOTE)
    if result.stdout:
        parts.append("stdout:\n" + result.stdout.rstrip())
    if result.stderr:
        parts.append("stderr:\n" + result.stderr.rstrip())
    if result.value is not None:
        parts.append("value of the last line:\n" + result.value)
    if result.error:
        parts.append("error:\n" + result.error.rstrip())
    if result.files:
        parts.append("files written in /mnt/data: " + ", ".join(result.files))
    if result.images:
        parts.append(f"{len(result.images)} figure(s) displayed (the user sees them).")
    if result.limit is not None:
        parts.append(
            f"[The code broke the sandbox's {result.limit.replace('_', ' ')} limit and was "
            "stopped. The kernel was restarted: variables are gone, the thread's files are back "
            "in /mnt/data. Do less at once (smaller pieces, fewer rows, no endless loops).]"
        )
    if not parts:
        parts.append("(the code ran and printed nothing)")
    return trimmed("\n\n".join(parts), limit=TOOL_OUTPUT_CHARS)


def tokens_of(messages: Sequence[Message]) -> int:
    """A rough token count (about four characters a token)."""
    return sum(len(json.dumps(m, ensure_ascii=False)) for m in messages) // CHARS_PER_TOKEN


def fitted(
    *, system: Message, past: Sequence[Sequence[Message]], current: Sequence[Message], budget: int
) -> list[Message]:
    """The messages to send: the system message, as many of the newest past turns as fit in
    ``budget`` tokens with the current turn, then the current turn (always whole)."""
    room = budget - tokens_of([system, *current])
    kept: list[Sequence[Message]] = []
    for turn in reversed(past):
        cost = tokens_of(turn)
        if cost > room:
            break
        room -= cost
        kept.append(turn)
    older = [m for turn in reversed(kept) for m in turn]
    return [system, *older, *current]
