"""`insightbot ask`: the same engine from a terminal — files in, answer and charts out.

Progress (step names, the code as it is written) goes to stderr; the answer to stdout, printed
before anything is saved so that a finished (and paid for) answer is never lost; charts and
files into a folder of their own per run inside ``--out`` (checked before any work), under the
names the answer uses. Its lines come from the catalogue, in the language of the question
(Hangul: Korean). ``--thread NAME`` continues an earlier conversation with its files (no need
to name them again); conversations live in their own SQLite file (INSIGHTBOT_ASK_DB), never in
the bot's database.
Without ``--thread``, everything the question created at the engine is deleted before it
returns.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
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


def run_folder(out_dir: Path, *, now: float) -> Path:
    """The folder one run's files go into, named after the run (its local time), so that the
    names in the answer are the names on disk."""
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S", time.localtime(now))
    folder, n = out_dir / stamp, 1
    while folder.exists():
        n += 1
        folder = out_dir / f"{stamp}-{n}"
    return folder


def out_dir_problem(out_dir: Path, lang: str) -> str | None:
    """Why ``--out`` cannot take the run's files (creating it if needed), or None."""
    if out_dir.exists() and not out_dir.is_dir():
        return messages.cli_out_not_a_folder(lang, str(out_dir))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as error:
        why = error.strerror or type(error).__name__
        return messages.cli_out_unwritable(lang, str(out_dir), why)
    return None


def local_files_for(paths: Sequence[Path], *, max_bytes: int) -> list[LocalFile]:
    """Check and inspect the files named on the command line; FileProblem names the bad one."""
    files = []
    for path in paths:
        name = path.name
        if path.is_dir():
            raise FileUnavailable(partial(messages.cli_is_a_folder, path=str(path)), file_name=name)
        if not path.is_file():
            raise FileUnavailable(
                partial(messages.cli_no_such_file, path=str(path)), file_name=name
            )
        try:
            size = path.stat().st_size
            with path.open("rb"):
                pass
        except OSError as error:
            why = error.strerror or type(error).__name__
            words = partial(messages.cli_unreadable, path=str(path), why=why)
            raise FileUnavailable(words, file_name=name) from None
        kind = kind_for(name=name)
        if kind is None:
            raise UnsupportedFileType(
                partial(messages.cli_unsupported, path=str(path)), file_name=name
            )
        if size > max_bytes:
            words = partial(messages.cli_too_large, path=str(path), size=size, max_bytes=max_bytes)
            raise FileTooLarge(words, file_name=name)
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
    """Run one question; returns the exit code (0 ok, 1 engine failure or files not saved,
    2 bad input). ``out_dir`` must have been checked with ``out_dir_problem``."""
    lang = messages.language_of(question)
    try:
        local = await asyncio.to_thread(local_files_for, paths, max_bytes=settings.max_file_bytes)
    except FileProblem as problem:
        print(messages.cli_problem(lang, problem.text_for(lang)), file=stderr)
        return AskResult(EXIT_INPUT, "", ())
    key = f"cli:{thread_name}" if thread_name else f"cli:once-{time.time_ns()}"
    earlier = await store.thread_files(key) if thread_name else []
    if not local and not earlier:
        print(messages.cli_problem(lang, messages.cli_no_files(lang)), file=stderr)
        return AskResult(EXIT_INPUT, "", ())
    if thread_name and earlier:
        names = ", ".join(f.name for f in earlier)
        print(messages.cli_continuing(lang, thread_name, names), file=stderr)
    elif thread_name:
        print(messages.cli_new_thread(lang, thread_name), file=stderr)
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
            lang=lang,
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
    lang: str,
) -> AskResult:
    print(messages.cli_uploading(lang), file=stderr)
    uploaded = await _uploaded(engine=engine, store=store, thread_key=key, files=local)
    print(messages.cli_preparing(lang), file=stderr)
    blank = ThreadRecord(key=key, team="cli", channel="cli", thread_ts=key)
    session = await prepare_thread_session(store=store, engine=engine, blank=blank, files=uploaded)
    for name in session.left_out:
        print(messages.cli_left_out(lang, name), file=stderr)
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
        lang=lang,
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
    lang: str,
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
                    print(messages.cli_writing_python(lang), file=stderr)
                case CodeDelta(delta=delta):
                    stderr.write(delta)
                    stderr.flush()
                case CodeRunning():
                    print(messages.cli_running_python(lang), file=stderr)
                case CodeOutput(logs=logs):
                    print(textwrap.indent(logs.rstrip(), "  "), file=stderr)
                case TextDelta():
                    pass
                case Artifact():
                    artifacts.append(event)
                case ArtifactWithheld():
                    withheld.append(event)
                case Finished():
                    finished = event
                case Failed(code=code, reason=reason, detail=detail):
                    said = messages.run_failed(lang, code, reason, detail)
                    print(messages.cli_problem(lang, said), file=stderr)
                    await ledger.failed(code, thread_answered=False)
                    return AskResult(EXIT_ENGINE, "", ())
        answer = finished.text
        print(answer, file=stdout, flush=True)  # before saving: a finished answer is never lost
        await ledger.answered(answer_ts=None, text=answer, code=finished.code, usage=finished.usage)
        folder = run_folder(out_dir, now=time.time())
        try:
            saved = await asyncio.to_thread(_save_artifacts, artifacts, folder)
        except OSError as error:
            why = error.strerror or type(error).__name__
            print(
                messages.cli_problem(lang, messages.cli_save_failed(lang, str(folder), why)),
                file=stderr,
            )
            return AskResult(EXIT_ENGINE, answer, ())
    for path in saved:
        print(messages.cli_saved(lang, str(path)), file=stdout)
    if withheld:
        listed = [(w.name, w.reason, w.size, w.limit) for w in withheld]
        print(messages.generated_files_withheld(lang, listed), file=stderr)
    return AskResult(EXIT_OK, answer, tuple(saved))


def _save_artifacts(artifacts: Sequence[Artifact], out_dir: Path) -> list[Path]:
    """Move the run's files into ``out_dir`` (created), keeping their names."""
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
