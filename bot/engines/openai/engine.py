"""The default engine: OpenAI Responses API + Conversations + explicit containers.

One Slack thread maps to one Conversation and one container sized to its data (see
``sizing``); files go to the Files API once and are added to each new container by id.
Responses run in background mode with streaming so a cut stream, or a restart, can continue
from the last sequence number (``openai_run``).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import openai

from bot.concurrency import RateSignals
from bot.config import Settings
from bot.engines.objects import (
    Deletion,
    EngineObject,
    Inventory,
    Note,
    ObjectKind,
    Owner,
    note_for,
    upload_lifetime_s,
)
from bot.engines.openai.deletes import delete_objects, own_containers
from bot.engines.openai.errors import engine_error_from
from bot.engines.openai.follow import EngineContext, Timing, resume_events
from bot.engines.openai.run import TurnRun
from bot.engines.openai.sandbox import prepare_sandbox
from bot.engines.openai.uploads import upload_path
from bot.errors import ConfigError
from bot.files import upload_form_for
from bot.types import EngineEvent, LocalFile, PastTurn, RunOptions, Session, UploadedFile

__all__ = ["OpenAIEngine", "Timing", "build_engine"]

log = logging.getLogger(__name__)
_LABEL_LIMIT = 512  # metadata values are at most 512 characters


class OpenAIEngine:
    """Implements ``bot.engines.base.Engine`` on the OpenAI API."""

    def __init__(
        self,
        *,
        settings: Settings,
        client: openai.AsyncOpenAI | None = None,
        timing: Timing | None = None,
        rate: RateSignals | None = None,
        inventory: Inventory | None = None,
    ) -> None:
        self._inventory = inventory
        if client is None:
            if not settings.openai_api_key:
                raise ConfigError("OPENAI_API_KEY is not set.")
            client = openai.AsyncOpenAI(
                api_key=settings.openai_api_key.reveal(),
                base_url=settings.openai_base_url,
                # aiohttp transport: a fraction of the default pool's CPU per request, which
                # is what bounds how many threads one process serves at once.
                http_client=openai.DefaultAioHttpClient(),
            )
            self._owns_client = True
        else:
            self._owns_client = False
        self._settings = settings
        self._client = client
        self._ctx = EngineContext(
            client=client, settings=settings, timing=timing or Timing(), rate=rate
        )
        _load_resources(client)

    async def upload_file(self, file: LocalFile, *, owner: Owner | None = None) -> UploadedFile:
        """Upload one local file, streamed from disk (large files in parts), recorded in the
        inventory under ``owner``; it expires at OpenAI after the retention period.

        Files of types the sandbox does not read directly travel wrapped in a .zip.
        Raises EngineError subclasses.
        """
        with tempfile.TemporaryDirectory(prefix="insightbot-upload-") as workdir:
            form = await asyncio.to_thread(
                upload_form_for, file.path, name=file.name, facts=file.facts, workdir=Path(workdir)
            )
            try:
                file_id = await upload_path(
                    self._client,
                    path=form.path,
                    upload_name=form.upload_name,
                    mime_type=form.mime_type,
                    expires_after_s=upload_lifetime_s(self._settings.retention_days),
                )
            except openai.OpenAIError as err:
                raise engine_error_from(err) from err
        await self._note(owner)(ObjectKind.FILE, file_id)
        # File names are the user's words: only at DEBUG.
        log.debug("uploaded %s as %s (%s)", file.name, file_id, form.upload_name)
        log.info("uploaded a file as %s", file_id)
        return UploadedFile(
            key=file.key,
            name=file.name,
            file_id=file_id,
            size=file.size,
            sha256=file.sha256,
            facts=file.facts,
            upload_name=form.upload_name,
        )

    async def prepare_session(
        self,
        *,
        session: Session | None,
        files: Sequence[UploadedFile],
        label: str,
        owner: Owner | None = None,
    ) -> Session:
        """Return a Session whose conversation exists and whose live container holds ``files``.

        Creates the conversation on first use (metadata ``insightbot_thread: label``) and a
        container when there is none, it expired, or it is too small; both are recorded in the
        inventory under ``owner``. Raises EngineError.
        """
        note = self._note(owner)
        if session is None:
            try:
                created = await self._client.conversations.create(
                    metadata={"insightbot_thread": label[:_LABEL_LIMIT]}
                )
            except openai.OpenAIError as err:
                raise engine_error_from(err) from err
            conversation_id = created.id
            await note(ObjectKind.CONVERSATION, conversation_id)
        else:
            conversation_id = session.conversation_id
        return await prepare_sandbox(
            self._client,
            conversation_id=conversation_id,
            previous=session,
            files=files,
            name=f"insightbot {label}",
            max_files=self._settings.max_files_per_thread,
            max_tier=self._settings.container_memory_max,
            note=note,
        )

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
        """Start a response and yield its events; the first is RunStarted (or
        ConversationReplaced, then RunStarted), the last Finished or Failed. Files the code
        produced are saved in ``out_dir``. What the run creates is recorded under ``owner``."""
        turn = TurnRun(
            self._ctx,
            session=session,
            question=question,
            files=files,
            history=history,
            turn_id=turn_id,
            out_dir=out_dir,
            options=options or RunOptions(),
            note=self._note(owner),
        )
        return turn.events()

    def resume(
        self,
        *,
        session: Session,
        response_id: str,
        after_sequence: int | None,
        out_dir: Path,
    ) -> AsyncIterator[EngineEvent]:
        """Continue an earlier response after ``after_sequence``; Failed(code="not_resumable")
        when the engine no longer has it. Files the code produced are saved in ``out_dir``."""
        return resume_events(
            self._ctx,
            session=session,
            response_id=response_id,
            after_sequence=after_sequence,
            out_dir=out_dir,
        )

    async def cancel(self, response_id: str) -> None:
        """Ask the engine to stop a response. A response that already ended (or was not
        cancellable) is not an error. Raises EngineError for auth/availability failures."""
        try:
            await self._client.responses.cancel(response_id)
        except (openai.BadRequestError, openai.NotFoundError, openai.ConflictError) as err:
            log.info("cancel of %s ignored: %s", response_id, err.message)
        except openai.OpenAIError as err:
            raise engine_error_from(err) from err

    async def forget(self, objects: Sequence[EngineObject]) -> list[Deletion]:
        """DELETE each object at OpenAI; 404 is done, 5xx/429/timeouts are PENDING."""
        return await delete_objects(self._client, objects)

    async def own_containers(self) -> list[EngineObject]:
        """Containers named ``insightbot …`` in the project. Raises EngineError subclasses."""
        try:
            return await own_containers(self._client)
        except openai.OpenAIError as err:
            raise engine_error_from(err) from err

    def _note(self, owner: Owner | None) -> Note:
        return note_for(self._inventory, owner)

    async def check(self) -> str:
        """Retrieve the configured model (a cheap authenticated call). Raises EngineError."""
        try:
            model = await self._client.models.retrieve(self._settings.model)
        except openai.OpenAIError as err:
            raise engine_error_from(err) from err
        return f"OpenAI API reachable; model {model.id} available"

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.close()


def _load_resources(client: openai.AsyncOpenAI) -> None:
    """Touch the API resources a turn uses: the SDK imports each on first use (about 0.6 s
    for ``responses``), which would otherwise land on the first question after a start."""
    for name in ("responses", "conversations", "containers", "files", "uploads"):
        getattr(client, name)


def build_engine(
    settings: Settings, *, rate: RateSignals | None = None, inventory: Inventory | None = None
) -> OpenAIEngine:
    """The engine for ``settings`` with its own HTTP client, telling ``rate`` about rate limits
    and accepted runs and ``inventory`` about every object it creates. Raises ConfigError
    without a key."""
    return OpenAIEngine(settings=settings, rate=rate, inventory=inventory)
