"""One run of the local engine: the Chat Completions loop with the ``python`` tool.

The run works in a task of its own and writes its events to a log; readers follow the log
from any sequence number. So the turn's silence watchdog can reopen a run's events (a long
cell sends none) without stopping it, and Stop interrupts the cell rather than abandoning it.
The loop ends when the model answers without a tool call, or after ``max_steps`` cells.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from bot import messages
from bot.engines.failures import failure_from_error, run_failure
from bot.engines.local.chat import ChatFinish, ChatPiece, ChatText, ChatToolFragment, ChatUsage
from bot.engines.local.conversation import (
    PYTHON_TOOL,
    Message,
    ToolCall,
    ToolCalls,
    assistant_message,
    cell_report,
    code_of,
    fitted,
    tool_message,
)
from bot.engines.local.kernel import CellResult
from bot.engines.local.limits import trimmed
from bot.engines.local.outputs import collect_outputs
from bot.engines.local.pool import KernelPool
from bot.engines.output_budget import OutputBudget
from bot.errors import EngineError
from bot.types import (
    CodeDelta,
    CodeDone,
    CodeOutput,
    CodeRunning,
    CodeStarted,
    EngineEvent,
    Failed,
    FailureCode,
    Finished,
    RunStarted,
    TextDelta,
    Usage,
)

log = logging.getLogger(__name__)

PART_SEPARATOR = "\n\n"
STOP_GRACE_S = 5.0  # how long an interrupted cell gets before its kernel is killed


class ChatStream(Protocol):
    def stream(
        self, messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]]
    ) -> AsyncIterator[ChatPiece]: ...


class HistoryBook(Protocol):
    """Where a thread's conversation with the model is kept (storage.Store is one)."""

    async def local_history(self, conversation_id: str) -> list[list[dict[str, Any]]]: ...

    async def save_local_turn(
        self, conversation_id: str, turn_id: str, messages: Sequence[dict[str, Any]]
    ) -> None: ...

    async def forget_local_history(self, conversation_id: str) -> int: ...


@dataclass(frozen=True)
class RunPlan:
    """Everything one run needs, decided before it starts."""

    response_id: str
    thread: str  # the session's conversation id: names the kernel and the history
    turn_id: str
    question: str
    system: Message
    past: list[list[Message]]
    files: Mapping[str, Path]  # name in the data folder -> our copy
    out_dir: Path
    max_steps: int
    context_tokens: int
    file_limit: int
    turn_limit: int


@dataclass
class _StepResult:
    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)


class LocalRun:
    def __init__(
        self, plan: RunPlan, *, model: ChatStream, pool: KernelPool, history: HistoryBook
    ) -> None:
        self.plan = plan
        self._model = model
        self._pool = pool
        self._history = history
        self._log: list[EngineEvent] = []
        self._changed = asyncio.Event()
        self.ended = False
        self._cancelled = False
        self._in_cell = False
        self._lang = messages.language_of(plan.question)
        self._texts: list[str] = []
        self._usage = Usage()
        self.task: asyncio.Task[None] | None = None

    def start(self, on_end: Callable[[LocalRun], None]) -> None:
        self.task = asyncio.create_task(self._work(), name=f"local-run-{self.plan.response_id}")
        self.task.add_done_callback(lambda _t: on_end(self))

    async def events(self, after: int | None = None) -> AsyncIterator[EngineEvent]:
        """The run's events after sequence ``after`` (all when None), live until it ends."""
        index = 0 if after is None else after + 1
        while True:
            while index < len(self._log):
                yield self._log[index]
                index += 1
            if self.ended:
                return
            self._changed.clear()
            await self._changed.wait()

    async def cancel(self) -> None:
        """Stop the run: interrupt its cell (the kernel and its variables stay) or, when the
        cell does not stop within STOP_GRACE_S, kill the kernel. Idempotent."""
        self._cancelled = True
        task = self.task
        if task is None or task.done():
            return
        if self._in_cell:
            await self._pool.interrupt(self.plan.thread)
            done, _ = await asyncio.wait({task}, timeout=STOP_GRACE_S)
            if done:
                return
        task.cancel()
        await asyncio.wait({task})
        if self._in_cell:
            log.warning("a stopped cell did not end; shutting its kernel down")
            await self._pool.stop(self.plan.thread)

    # -- the loop ------------------------------------------------------------------------

    def _emit(self, event: EngineEvent) -> None:
        self._log.append(replace(event, sequence=len(self._log)))
        self._changed.set()

    def _say(self, text: str) -> None:
        if self._texts:
            self._emit(TextDelta(PART_SEPARATOR))
        self._texts.append(text)
        self._emit(TextDelta(text))

    async def _work(self) -> None:
        plan = self.plan
        self._emit(RunStarted(response_id=plan.response_id))
        try:
            await self._loop()
        except asyncio.CancelledError:
            self._end(run_failure(FailureCode.CANCELLED))
            raise
        except EngineError as error:
            log.warning("local run %s failed: %s", plan.response_id, error.detail)
            self._end(failure_from_error(error, partial_text=PART_SEPARATOR.join(self._texts)))
        except RuntimeError as error:  # a kernel that would not start
            log.error("local run %s: %s", plan.response_id, error)
            self._end(self._failed(FailureCode.KERNEL_FAILED))
        except Exception:
            log.exception("local run %s crashed", plan.response_id)
            self._end(self._failed(FailureCode.CRASHED))

    def _failed(self, code: FailureCode) -> Failed:
        return run_failure(code, retryable=True, partial_text=PART_SEPARATOR.join(self._texts))

    def _end(self, event: EngineEvent) -> None:
        if not self.ended:
            self._emit(event)
            self.ended = True
            self._changed.set()

    async def _loop(self) -> None:
        plan = self.plan
        current: list[Message] = [{"role": "user", "content": plan.question}]
        budget = OutputBudget(file_limit=plan.file_limit, turn_limit=plan.turn_limit)
        written: dict[str, None] = {}
        images: list[Path] = []
        codes: list[str] = []
        files: Mapping[str, Path] | None = plan.files
        step = 0
        while True:
            sent = fitted(
                system=plan.system, past=plan.past, current=current, budget=plan.context_tokens
            )
            result = await self._complete(sent)
            if not result.calls:
                current.append(assistant_message(result.text, []))
                break
            if step >= plan.max_steps:
                notice = messages.local_max_steps(self._lang, plan.max_steps)
                self._say(notice)
                current.append(assistant_message(f"{result.text}{PART_SEPARATOR}{notice}", []))
                break
            current.append(assistant_message(result.text, result.calls))
            for call in result.calls:
                step += 1
                code, problem = code_of(call)
                if code is None:
                    current.append(tool_message(call.call_id, problem or ""))
                    continue
                codes.append(code)
                cell = await self._run_cell(call.call_id, code, files)
                files = None  # copied in once a turn; the kernel puts them back on restarts
                if self._cancelled:
                    self._end(run_failure(FailureCode.CANCELLED))
                    return
                current.append(tool_message(call.call_id, cell_report(cell)))
                pictures = [n for n in cell.files if n.lower().endswith(".png")]
                for name in cell.files:
                    written.pop(name, None)
                    written[name] = None
                if not pictures:  # a figure both saved and shown is posted once
                    images.extend(cell.images)
        kernel = self._pool.kernel_of(plan.thread)
        if kernel is not None and (written or images):
            found = await asyncio.to_thread(
                collect_outputs,
                data_dir=kernel.data_dir,
                written=list(written),
                images=images,
                out_dir=plan.out_dir,
                budget=budget,
            )
            for artifact in found:
                self._emit(artifact)
        await self._history.save_local_turn(plan.thread, plan.turn_id, current)
        self._end(
            Finished(text=PART_SEPARATOR.join(self._texts), usage=self._usage, code=tuple(codes))
        )

    async def _complete(self, sent: Sequence[Message]) -> _StepResult:
        """One streamed completion: text goes out as it comes; tool calls are put together."""
        calls = ToolCalls()
        text: list[str] = []
        async for piece in self._model.stream(sent, [PYTHON_TOOL]):
            match piece:
                case ChatText(text=delta):
                    if not text and self._texts:
                        self._emit(TextDelta(PART_SEPARATOR))
                    if not text:
                        self._texts.append("")
                    text.append(delta)
                    self._texts[-1] += delta
                    self._emit(TextDelta(delta))
                case ChatToolFragment():
                    if calls.add(
                        index=piece.index,
                        call_id=piece.call_id,
                        name=piece.name,
                        arguments=piece.arguments,
                    ):
                        self._emit(CodeStarted(item_id=calls.by_index[piece.index].call_id))
                case ChatUsage(usage=usage):
                    self._usage = self._usage + usage
                case ChatFinish():
                    pass
        return _StepResult(text="".join(text), calls=calls.calls())

    async def _run_cell(
        self, call_id: str, code: str, files: Mapping[str, Path] | None
    ) -> CellResult:
        self._emit(CodeDelta(item_id=call_id, delta=code))
        self._emit(CodeDone(item_id=call_id, code=code))
        self._emit(CodeRunning(item_id=call_id))
        self._in_cell = True
        try:
            cell = await self._pool.execute(self.plan.thread, code, files=files)
        finally:
            self._in_cell = False
        logs = "\n".join(part for part in (cell.stdout, cell.stderr, cell.error or "") if part)
        if logs:
            self._emit(CodeOutput(item_id=call_id, logs=trimmed(logs, limit=2000)))
        if cell.limit is not None:
            # The user hears it from the bot itself, whatever the model makes of it.
            self._say(messages.local_limit(self._lang, cell.limit))
        return cell
