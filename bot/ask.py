"""`insightbot ask`: the same engine from a terminal — files in, answer and charts out.

Progress (step names, the code as it is written) goes to stderr; the answer to stdout; charts
and files into an output folder. ``--thread NAME`` continues an earlier conversation with the
same files, remembered in the same SQLite file as the bot uses. Without ``--thread``,
everything created at the engine is deleted before ``ask`` returns.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot import messages
from bot.config import Settings
from bot.engines.base import Engine
from bot.engines.objects import Owner
from bot.errors import FileProblem, FileTooLarge, FileUnavailable, UnsupportedFileType
from bot.files import (
    inspect_file,
    kind_for,
    record_with_upload,
    sha256_of,
    supported_types_text,
    uploaded_from_record,
)
from bot.lifecycle import discard_thread, new_holder
from bot.turn import TurnLedger, prepare_thread_session, thread_history
from bot.types import (
    Artifact,
    ArtifactWithheld,
    CodeDelta,
    CodeOutput,
    CodeRunning,
    CodeStarted,
    Failed,
    Finished,
    LocalFile,
    PastTurn,
    Session,
    TextDelta,
    UploadedFile,
    Usage,
)
from storage import Store
from storage.records import FileRecord, ThreadRecord, TurnRecord

EXIT_OK, EXIT_ENGINE, EXIT_INPUT = 0, 1, 2


@dataclass(frozen=True)
class AskResult:
    exit_code: int
    answer: str
    saved: tuple[Path, ...]


def local_files_for(paths: Sequence[Path], *, max_bytes: int) -> list[LocalFile]:
    """Check and inspect the files named on the command line; FileProblem names the bad one."""
    files = []
    for path in paths:
        name = path.name
        if not path.is_file():
            raise FileUnavailable(f"{path}: no such file.", file_name=name)
        try:
            size = path.stat().st_size
            with path.open("rb"):
                pass
        except OSError as error:
            raise FileUnavailable(
                f"{path}: cannot be read ({error.strerror}).", file_name=name
            ) from None
        kind = kind_for(name=name)
        if kind is None:
            raise UnsupportedFileType(
                f"{path}: not a supported type. Supported: {supported_types_text()}.",
                file_name=name,
            )
        if size > max_bytes:
            raise FileTooLarge(
                f"{path}: {size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit "
                "(INSIGHTBOT_MAX_FILE_MB).",
                file_name=name,
            )
        facts = inspect_file(path, name=name, declared_kind=kind, max_bytes=max_bytes)
        digest = sha256_of(path)
        files.append(
            LocalFile(
                key=f"local:{digest}", name=name, path=path, size=size, sha256=digest, facts=facts
            )
        )
    return files


async def ask(
    *,
    settings: Settings,
    engine: Engine,
    store: Store,
    paths: Sequence[Path],
    question: str,
    thread_name: str | None,
    out_dir: Path,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> AskResult:
    """Run one question; returns the exit code (0 ok, 1 engine failure, 2 bad input)."""
    try:
        local = await asyncio.to_thread(local_files_for, paths, max_bytes=settings.max_file_bytes)
    except FileProblem as problem:
        print(f"insightbot: {problem.user_message}", file=stderr)
        return AskResult(EXIT_INPUT, "", ())
    key = f"cli:{thread_name}" if thread_name else f"cli:once-{time.time_ns()}"
    try:
        return await _ask_in(
            settings=settings,
            engine=engine,
            store=store,
            local=local,
            key=key,
            question=question,
            out_dir=out_dir,
            stdout=stdout,
            stderr=stderr,
        )
    finally:
        if not thread_name:  # a one-off question leaves nothing behind at the engine
            await discard_thread(
                store=store, engine=engine, thread_key=key, holder=new_holder("ask")
            )


async def _ask_in(
    *,
    settings: Settings,
    engine: Engine,
    store: Store,
    local: Sequence[LocalFile],
    key: str,
    question: str,
    out_dir: Path,
    stdout: TextIO,
    stderr: TextIO,
) -> AskResult:
    print("• uploading files", file=stderr)
    uploaded = await _uploaded(engine=engine, store=store, thread_key=key, files=local)
    print("• preparing the sandbox", file=stderr)
    blank = ThreadRecord(key=key, team="cli", channel="cli", thread_ts=key)
    session = await prepare_thread_session(store=store, engine=engine, blank=blank, files=uploaded)
    for name in session.left_out:
        print(f"• left out (too many files): {name}", file=stderr)
    history = await thread_history(store=store, thread_key=key, before=None)
    now = time.time()
    turn = TurnRecord(
        id=f"cli-{time.time_ns()}",
        thread_key=key,
        message_ts=str(now),
        user="cli",
        question=question,
        created_at=now,
        updated_at=now,
    )
    ledger = await TurnLedger.create(store, turn)
    await ledger.running()
    return await _follow(
        engine=engine,
        ledger=ledger,
        session=session,
        uploaded=uploaded,
        history=history,
        turn=turn,
        out_dir=out_dir,
        stdout=stdout,
        stderr=stderr,
    )


async def _uploaded(
    *, engine: Engine, store: Store, thread_key: str, files: Sequence[LocalFile]
) -> list[UploadedFile]:
    """Upload the files the engine lacks; files of earlier questions of the thread come first."""
    known = {f.slack_file_id: f for f in await store.thread_files(thread_key)}
    asked = {f.key for f in files}
    result = [
        uploaded
        for record in known.values()
        if record.slack_file_id not in asked
        and (uploaded := uploaded_from_record(record)) is not None
    ]
    for local in files:
        record = known.get(local.key) or FileRecord(
            thread_key=thread_key,
            slack_file_id=local.key,
            name=local.name,
            shared_ts=str(time.time()),
        )
        cached = uploaded_from_record(record)
        if cached is not None and cached.sha256 == local.sha256:
            result.append(cached)
            continue
        uploaded = await engine.upload_file(local, owner=Owner(thread_key=thread_key))
        await store.save_file(record_with_upload(record, local, uploaded))
        result.append(uploaded)
    return result


async def _follow(
    *,
    engine: Engine,
    ledger: TurnLedger,
    session: Session,
    uploaded: Sequence[UploadedFile],
    history: Sequence[PastTurn],
    turn: TurnRecord,
    out_dir: Path,
    stdout: TextIO,
    stderr: TextIO,
) -> AskResult:
    with tempfile.TemporaryDirectory(prefix="insightbot-ask-") as scratch:
        artifacts: list[Artifact] = []
        withheld: list[ArtifactWithheld] = []
        finished = Finished(text="", usage=Usage())
        async for event in engine.run(
            session=session,
            question=turn.question,
            files=uploaded,
            history=history,
            turn_id=turn.id,
            out_dir=Path(scratch),
            owner=Owner(thread_key=turn.thread_key, turn_id=turn.id),
        ):
            match event:
                case CodeStarted():
                    print("• writing Python", file=stderr)
                case CodeDelta(delta=delta):
                    stderr.write(delta)
                    stderr.flush()
                case CodeRunning():
                    print("\n• running Python", file=stderr)
                case CodeOutput(logs=logs):
                    print(f"  {logs.strip()}", file=stderr)
                case TextDelta():
                    pass
                case Artifact():
                    artifacts.append(event)
                case ArtifactWithheld():
                    withheld.append(event)
                case Finished():
                    finished = event
                case Failed(message=message, code=code):
                    print(f"insightbot: {message}", file=stderr)
                    await ledger.failed(code, thread_answered=False)
                    return AskResult(EXIT_ENGINE, "", ())
        saved = await asyncio.to_thread(_save_artifacts, artifacts, out_dir)
    answer = finished.text
    print(answer, file=stdout)
    for path in saved:
        print(f"saved: {path}", file=stdout)
    if withheld:
        lang = messages.language_of(turn.question)
        listed = [(w.name, w.reason, w.size, w.limit) for w in withheld]
        print(messages.generated_files_withheld(lang, listed), file=stderr)
    await ledger.answered(answer_ts=None, text=answer, code=finished.code, usage=finished.usage)
    return AskResult(EXIT_OK, answer, tuple(saved))


def _save_artifacts(artifacts: Sequence[Artifact], out_dir: Path) -> list[Path]:
    if not artifacts:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    for artifact in artifacts:
        target = out_dir / Path(artifact.name).name
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = out_dir / f"{stem}-{n}{suffix}"
        shutil.move(artifact.path, target)  # the run's folder is deleted right after
        saved.append(target)
    return saved
