"""The thread's sandbox: an explicit container sized to the data, holding the thread's files.

A container idles out after ``IDLE_MINUTES``; an expired one cannot be revived, so a new one
is created and the files (already in the Files API) are added again, never re-uploaded. The
Hangul font goes in before a turn that wants it (``fonts``, called from the run).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import openai

from bot.engines.objects import Note, ObjectKind
from bot.engines.openai.errors import engine_error_from, is_expired_message
from bot.engines.sizing import files_that_fit, memory_tier_for, tier_is_enough
from bot.errors import ContainerExpired
from bot.types import Session, UploadedFile

IDLE_MINUTES = 20
DEAD_STATUSES = frozenset({"expired", "deleted"})
_PARALLEL_ADDS = 4
_NAME_LIMIT = 64

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveContainer:
    id: str
    memory_limit: str | None


async def live_container(client: openai.AsyncOpenAI, container_id: str) -> LiveContainer | None:
    """The container when it is still usable; None when it expired or is gone.

    Raises EngineError subclasses for other failures.
    """
    try:
        found = await client.containers.retrieve(container_id)
    except (openai.NotFoundError, openai.BadRequestError) as err:
        if isinstance(err, openai.NotFoundError) or is_expired_message(str(err.message)):
            return None
        raise engine_error_from(err) from err
    except openai.OpenAIError as err:
        raise engine_error_from(err) from err
    if found.status in DEAD_STATUSES:
        return None
    return LiveContainer(found.id, found.memory_limit)


async def create_container(
    client: openai.AsyncOpenAI, *, name: str, tier: str, note: Note | None = None
) -> str:
    """Create an empty container, recorded with ``note``; return its id. Raises EngineError
    subclasses."""
    try:
        created = await client.containers.create(
            name=name[:_NAME_LIMIT],
            memory_limit=tier,  # type: ignore[arg-type]
            expires_after={"anchor": "last_active_at", "minutes": IDLE_MINUTES},
        )
    except openai.OpenAIError as err:
        raise engine_error_from(err) from err
    if note is not None:
        await note(ObjectKind.CONTAINER, created.id)
    log.info("created container %s (%s)", created.id, tier)
    return created.id


async def add_files(
    client: openai.AsyncOpenAI, *, container_id: str, files: Sequence[UploadedFile]
) -> dict[str, str]:
    """Add engine files to a container; return engine file id -> path in the sandbox.

    The path comes from the API's answer: the sandbox may prefix names with a hash.
    Raises EngineError subclasses (ContainerExpired when the container died meanwhile).
    """
    gate = asyncio.Semaphore(_PARALLEL_ADDS)

    async def add(file: UploadedFile) -> tuple[str, str]:
        async with gate:
            try:
                added = await client.containers.files.create(container_id, file_id=file.file_id)
            except openai.OpenAIError as err:
                raise engine_error_from(err) from err
        return file.file_id, added.path

    return dict(await asyncio.gather(*(add(f) for f in files)))


async def prepare_sandbox(
    client: openai.AsyncOpenAI,
    *,
    conversation_id: str,
    previous: Session | None,
    files: Sequence[UploadedFile],
    name: str,
    max_files: int,
    max_tier: str,
    note: Note | None = None,
) -> Session:
    """A Session on ``conversation_id`` whose live container holds the newest ``files``.

    Reuses the previous container when it is alive, big enough and holds no file that no
    longer fits; otherwise creates a new one (recorded with ``note``). Raises EngineError
    subclasses.
    """
    kept, left_out = files_that_fit(files, limit=max_files)
    tier = memory_tier_for(kept, maximum=max_tier)
    kept_ids = {f.file_id for f in kept}
    container_id: str | None = None
    paths: dict[str, str] = {}
    current_tier = tier
    if previous is not None and previous.container_id:
        live = await live_container(client, previous.container_id)
        stale = set(previous.file_paths) - kept_ids
        if live is None:
            log.info("container %s expired; creating a new one", previous.container_id)
        elif not tier_is_enough(live.memory_limit or previous.memory_limit, tier):
            log.info("container %s is too small for the data (needs %s)", live.id, tier)
        elif not stale:
            container_id = live.id
            paths = dict(previous.file_paths)
            current_tier = live.memory_limit or previous.memory_limit or tier
    for attempt in range(2):
        if container_id is None:
            container_id = await create_container(client, name=name, tier=tier, note=note)
            paths, current_tier = {}, tier
        missing = [f for f in kept if f.file_id not in paths]
        try:
            paths.update(await add_files(client, container_id=container_id, files=missing))
            break
        except ContainerExpired:
            if attempt:
                raise
            container_id = None  # it expired between the check and the add
    return Session(
        conversation_id=conversation_id,
        container_id=container_id,
        memory_limit=current_tier,
        file_paths={fid: path for fid, path in paths.items() if fid in kept_ids},
        left_out=left_out,
    )
