"""The local engine: the ``Engine`` interface over a Chat Completions server and one sandboxed
Jupyter kernel per thread. The data never leaves the machine (except to the model server the
operator chose).

- Files: ``upload_file`` keeps a copy under ``files_dir`` named by its SHA-256; the file id
  names that copy. Each thread's kernel gets its own copies in its /mnt/data.
- Session: the conversation id is ours (``local-…``) and names the thread's kernel and its
  history, which lives in our database (``HistoryBook``): these servers keep none.
- Runs die with the process: ``resume`` of a run this process does not have yields
  Failed(code="not_resumable", retryable=True).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import shutil
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bot.config import Settings
from bot.engines.failures import run_failure
from bot.engines.local.chat import ChatModel
from bot.engines.local.conversation import PYTHON_TOOL
from bot.engines.local.instructions import local_instructions
from bot.engines.local.pool import KernelPool
from bot.engines.local.run import HistoryBook, LocalRun, RunPlan
from bot.engines.objects import (
    Deletion,
    EngineObject,
    Inventory,
    ObjectKind,
    Outcome,
    Owner,
    note_for,
)
from bot.errors import EngineBadRequest, EngineError
from bot.files import safe_display_name
from bot.types import (
    EngineEvent,
    FailureCode,
    LocalFile,
    PastTurn,
    RunOptions,
    Session,
    UploadedFile,
)

log = logging.getLogger(__name__)

_FILE_ID = re.compile(r"local-([0-9a-f]{64})")
_KEEP_ENDED_S = 600.0  # an ended run stays readable this long (a late reopen still sees it)


class LocalEngine:
    """Implements ``bot.engines.base.Engine`` with a local kernel pool and a model server."""

    def __init__(
        self,
        *,
        settings: Settings,
        model: ChatModel,
        pool: KernelPool,
        files_dir: Path,
        history: HistoryBook,
        inventory: Inventory | None = None,
    ) -> None:
        self._settings = settings
        self._inventory = inventory
        self._model = model
        self._pool = pool
        self._files_dir = files_dir
        self._history = history
        self._runs: dict[str, LocalRun] = {}
        files_dir.mkdir(parents=True, exist_ok=True)
        files_dir.chmod(0o700)

    async def upload_file(self, file: LocalFile, *, owner: Owner | None = None) -> UploadedFile:
        """Keep a copy of ``file`` (once per content; each thread using it is recorded under
        its ``owner``). Raises EngineError when it cannot."""
        target = self._files_dir / file.sha256
        try:
            if not target.is_file():
                await asyncio.to_thread(_copy_atomically, file.path, target)
        except OSError as err:
            raise EngineError(detail=f"cannot keep a copy of a file: {err}") from err
        file_id = f"local-{file.sha256}"
        await note_for(self._inventory, owner)(ObjectKind.FILE, file_id)
        return UploadedFile(
            key=file.key,
            name=file.name,
            file_id=file_id,
            size=file.size,
            sha256=file.sha256,
            facts=file.facts,
            upload_name=file.name,
        )

    async def prepare_session(
        self,
        *,
        session: Session | None,
        files: Sequence[UploadedFile],
        label: str,
        owner: Owner | None = None,
    ) -> Session:
        """The thread's session: a new conversation id on first use (recorded under
        ``owner``); each file's path in /mnt/data (newest win beyond
        INSIGHTBOT_MAX_FILES_PER_THREAD)."""
        if session is None:
            conversation_id = f"local-{secrets.token_hex(12)}"
            await note_for(self._inventory, owner)(ObjectKind.CONVERSATION, conversation_id)
        else:
            conversation_id = session.conversation_id
        limit = self._settings.max_files_per_thread
        kept = list(files)[-limit:]
        left_out = [f.name for f in list(files)[:-limit]] if len(files) > limit else []
        folder = self._pool.data_path(conversation_id)
        paths: dict[str, str] = {}
        taken: set[str] = set()
        for file in kept:
            if self._copy_of(file.file_id) is None:
                left_out.append(file.name)
                continue
            name = _free_name(safe_display_name(file.name), taken)
            taken.add(name)
            paths[file.file_id] = f"{folder}/{name}"
        log.info("local session %s for %s: %d files", conversation_id, label, len(paths))
        return Session(conversation_id=conversation_id, file_paths=paths, left_out=tuple(left_out))

    def run(
        self,
        *,
        session: Session,
        question: str,
        files: Sequence[UploadedFile],
        history: Sequence[PastTurn],
        turn_id: str,
        out_dir: Path,
        options: RunOptions | None = None,
        owner: Owner | None = None,
    ) -> AsyncIterator[EngineEvent]:
        """Start the run in a task of its own and follow its events (see bot/engines/local/run.py).

        ``options`` are not used: the model server serves INSIGHTBOT_LOCAL_MODEL, and no one
        else's dashboard attributes the run. A run keeps nothing after it ends (its messages go
        to the conversation's history), so there is nothing to record under ``owner``."""
        return self._started(
            session=session,
            question=question,
            files=files,
            history=history,
            turn_id=turn_id,
            out_dir=out_dir,
        )

    async def _started(
        self,
        *,
        session: Session,
        question: str,
        files: Sequence[UploadedFile],
        history: Sequence[PastTurn],
        turn_id: str,
        out_dir: Path,
    ) -> AsyncIterator[EngineEvent]:
        thread = session.conversation_id
        past = await self._history.local_history(thread)
        if not past:  # a thread that began with another engine: its answers, shortened
            past = [
                [
                    {"role": "user", "content": t.question},
                    {"role": "assistant", "content": t.answer},
                ]
                for t in history
            ]
        present = [f for f in files if f.file_id in session.file_paths]
        system = local_instructions(
            files=present,
            file_paths=session.file_paths,
            left_out=session.left_out,
            state_gone=bool(past) and not self._pool.is_warm(thread),
        )
        copies = {
            session.file_paths[f.file_id].rsplit("/", 1)[-1]: copy
            for f in present
            if (copy := self._copy_of(f.file_id)) is not None
        }
        settings = self._settings
        plan = RunPlan(
            response_id=f"local-run-{secrets.token_hex(12)}",
            thread=thread,
            turn_id=turn_id,
            question=question,
            system={"role": "system", "content": system},
            past=past,
            files=copies,
            out_dir=out_dir,
            max_steps=settings.local_max_steps,
            context_tokens=settings.local_context_tokens,
            file_limit=settings.max_output_file_bytes,
            turn_limit=settings.max_output_turn_bytes,
        )
        run = LocalRun(plan, model=self._model, pool=self._pool, history=self._history)
        self._runs[plan.response_id] = run
        run.start(self._ended)
        async for event in run.events():
            yield event

    def resume(
        self,
        *,
        session: Session,
        response_id: str,
        after_sequence: int | None,
        out_dir: Path,
    ) -> AsyncIterator[EngineEvent]:
        """Follow a run of this process again after ``after_sequence``; one that died with an
        earlier process yields Failed(code="not_resumable", retryable=True)."""
        run = self._runs.get(response_id)
        if run is not None:
            return run.events(after_sequence)
        return _not_resumable()

    async def cancel(self, response_id: str) -> None:
        """Stop a run (its cell is interrupted); unknown or ended runs are ignored."""
        run = self._runs.get(response_id)
        if run is not None:
            await run.cancel()

    async def check(self) -> str:
        """The model server answers and the model calls tools. Raises EngineError."""
        probe = await self._model.probe([PYTHON_TOOL])
        where = f"model {self._model.model} at {self._model.base_url}"
        if not probe.called_tool:
            return f"{where} answers and accepts tools (it did not call one when asked)"
        return f"{where} answers and calls tools"

    async def check_tools(self) -> None:
        """Refuse a server that refuses tool calling (ConfigError-worthy: EngineBadRequest);
        an unreachable one is only logged, since it may come up after the bot."""
        try:
            await self._model.probe([PYTHON_TOOL])
        except EngineBadRequest:
            raise
        except EngineError as error:
            log.warning(
                "the local model server at %s did not answer the tool check: %s",
                self._model.base_url,
                error.detail or error.user_message,
            )

    async def forget(self, objects: Sequence[EngineObject]) -> list[Deletion]:
        """Delete conversations (kernel, files and history) and file copies; runs keep
        nothing and there are no containers, so those are already gone."""
        deletions = []
        for obj in objects:
            try:
                if obj.kind is ObjectKind.CONVERSATION:
                    await self.forget_conversation(obj.object_id)
                    outcome = Outcome.DELETED
                elif obj.kind is ObjectKind.FILE:
                    outcome = (
                        Outcome.DELETED if await self.delete_file(obj.object_id) else Outcome.GONE
                    )
                else:
                    outcome = Outcome.GONE
            except OSError as err:
                deletions.append(Deletion(obj, Outcome.PENDING, f"{type(err).__name__}: {err}"))
                continue
            deletions.append(Deletion(obj, outcome))
        return deletions

    async def own_containers(self) -> list[EngineObject]:
        """None: the local engine's kernels live in its own folder, deleted with the thread."""
        return []

    async def forget_conversation(self, conversation_id: str) -> None:
        """Shut the thread's kernel down and delete its files and conversation history."""
        await self._pool.forget(conversation_id)
        await self._history.forget_local_history(conversation_id)

    async def delete_file(self, file_id: str) -> bool:
        """Delete our copy of a file (no thread may use it any more); False when there was
        none."""
        copy = self._copy_of(file_id)
        if copy is None:
            return False
        await asyncio.to_thread(copy.unlink, missing_ok=True)
        return True

    async def aclose(self) -> None:
        """Stop every run, shut every kernel down and close the model client."""
        for run in list(self._runs.values()):
            if run.task is not None and not run.task.done():
                run.task.cancel()
        tasks = [r.task for r in self._runs.values() if r.task is not None]
        if tasks:
            await asyncio.wait(tasks)
        self._runs.clear()
        await self._pool.aclose()
        await self._model.aclose()

    def _copy_of(self, file_id: str) -> Path | None:
        match = _FILE_ID.fullmatch(file_id)
        if match is None:
            return None
        path = self._files_dir / match.group(1)
        return path if path.is_file() else None

    def _ended(self, run: LocalRun) -> None:
        def drop() -> None:
            if self._runs.get(run.plan.response_id) is run:
                del self._runs[run.plan.response_id]

        asyncio.get_running_loop().call_later(_KEEP_ENDED_S, drop)


async def _not_resumable() -> AsyncIterator[EngineEvent]:
    # The turn words this in the asker's language (it knows it; the engine does not).
    yield run_failure(FailureCode.NOT_RESUMABLE, retryable=True)


def _free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot and stem else (name, "")
    number = 2
    while f"{stem}-{number}{ext}" in taken:
        number += 1
    return f"{stem}-{number}{ext}"


def _copy_atomically(source: Path, target: Path) -> None:
    part = target.with_name(f"{target.name}.{secrets.token_hex(4)}.part")
    shutil.copyfile(source, part)
    part.replace(target)


__all__ = ["LocalEngine", "MemoryHistory"]


class MemoryHistory:
    """A ``HistoryBook`` kept in memory (for `doctor`, which answers no thread)."""

    def __init__(self) -> None:
        self._turns: dict[str, list[tuple[str, list[dict[str, object]]]]] = {}

    async def local_history(self, conversation_id: str) -> list[list[dict[str, object]]]:
        return [list(m) for _turn, m in self._turns.get(conversation_id, [])]

    async def save_local_turn(
        self, conversation_id: str, turn_id: str, messages: Sequence[dict[str, object]]
    ) -> None:
        self._turns.setdefault(conversation_id, []).append((turn_id, list(messages)))

    async def forget_local_history(self, conversation_id: str) -> int:
        return len(self._turns.pop(conversation_id, []))
