"""One new turn: create its response safely, then follow it (``openai_follow``).

Creating a response is not idempotent (the API takes no idempotency key), so the SDK's own
retries are off for it and we create again only when the server clearly refused (429 that
is not ``insufficient_quota``, 5xx) or the request never reached it (the connection could not
be opened). When the outcome is unknown (the request was sent but no ``response.created``
came back), the conversation is searched for this turn's message, and nothing is created
again either way: the turn ends retryable and the user decides. A 400 about a container means either our sandbox died (it is
renewed) or the conversation refers to a dead one (it is replaced, seeded with a summary).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import openai

from bot.engines.failures import failure_from_error
from bot.engines.history import summary_items
from bot.engines.instructions import asks_for_excel, instructions_for
from bot.engines.objects import Note, ObjectKind
from bot.engines.openai.errors import (
    engine_error_from,
    error_message_of,
    is_insufficient_quota,
    retry_after_seconds,
)
from bot.engines.openai.follow import (
    INCLUDE,
    EngineContext,
    NoResponse,
    Stream,
    follow_response,
)
from bot.engines.openai.fonts import ensure_font, wants_hangul_font
from bot.engines.openai.sandbox import live_container, prepare_sandbox
from bot.engines.openai.stream import StreamTranslator
from bot.errors import EngineError, OutcomeUnknown
from bot.logs import set_log_context
from bot.types import (
    ConversationReplaced,
    EngineEvent,
    Failed,
    PastTurn,
    RunOptions,
    RunStarted,
    Session,
    UploadedFile,
)

log = logging.getLogger(__name__)


def _never_reached_server(err: BaseException) -> bool:
    """Whether the failure happened while opening the connection (the request was not sent).

    The transport's own exception types differ between HTTP client versions, so they are
    recognised by name along the cause chain.
    """
    cause: BaseException | None = err
    while cause is not None:
        if type(cause).__name__ in ("ConnectError", "ConnectTimeout"):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def turn_marker(turn_id: str) -> str:
    """A line in the user message that lets us find this turn in the conversation later."""
    return f"<!-- insightbot turn {turn_id} -->"


class TurnRun:
    """State of one ``Engine.run`` call."""

    def __init__(
        self,
        ctx: EngineContext,
        *,
        session: Session,
        question: str,
        files: Sequence[UploadedFile],
        history: Sequence[PastTurn],
        turn_id: str,
        out_dir: Path,
        options: RunOptions,
        note: Note,
    ) -> None:
        self.ctx = ctx
        self.options = options
        self.note = note
        self.out_dir = out_dir
        self.session = session
        self.question = question
        self.files = files
        self.history = history
        self.turn_id = turn_id
        self.translator = StreamTranslator()
        self._stream: Stream | None = None

    async def events(self) -> AsyncIterator[EngineEvent]:
        """All events of the turn; every error ends as a final Failed event."""
        try:
            for second_try in (False, True):
                try:
                    async for event in self._start():
                        yield event
                    assert self._stream is not None
                    async for event in follow_response(
                        self.ctx,
                        stream=self._stream,
                        translator=self.translator,
                        container_id=self.session.container_id,
                        resumable=self.ctx.settings.background,
                        out_dir=self.out_dir,
                    ):
                        if isinstance(event, RunStarted):
                            # The first moment its id is known: into the inventory at once.
                            await self.note(ObjectKind.RESPONSE, event.response_id)
                        yield event
                    return
                except NoResponse as lost:
                    if lost.sent:
                        # The run may exist: conversations list a response's items only once
                        # it completes, so not finding our message proves nothing. Never
                        # create blindly; the user gets a Retry button instead.
                        found = await self._turn_recorded()
                        raise OutcomeUnknown(
                            detail=f"no response id after create (turn seen: {found})"
                        ) from None
                    if second_try:
                        raise OutcomeUnknown(detail="could not reach the engine twice") from None
                    log.warning("create never reached the engine; creating again")
        except EngineError as err:
            yield self._failed(err)
        except openai.OpenAIError as err:
            yield self._failed(engine_error_from(err))

    def _failed(self, err: EngineError) -> Failed:
        log.warning("turn %s failed: %s (request %s)", self.turn_id, err.detail, err.request_id)
        return failure_from_error(
            err,
            partial_text=self.translator.streamed_text,
            sequence=self.translator.sequence,
        )

    async def _font_if_wanted(self) -> None:
        """Put the Hangul font in the container when this turn may chart Korean."""
        container_id = self.session.container_id
        if container_id is None or self.session.font_path is not None:
            return
        if wants_hangul_font(self.question, self.files):
            path = await ensure_font(self.ctx.client, container_id=container_id, fresh=False)
            self.session = replace(self.session, font_path=path)

    async def _start(self) -> AsyncIterator[EngineEvent]:
        """Create the response (sets ``_stream``), handling refusals; may replace the
        conversation. Raises NoResponse when the outcome is unknown."""
        if self.session.container_id is None:
            await self._renew_sandbox()
        await self._font_if_wanted()
        attempt = 0
        fixed_container = replaced = False
        while True:
            attempt += 1
            try:
                self._stream = await self._create()
                if self.ctx.rate is not None:
                    self.ctx.rate.accepted()
                return
            except openai.APIConnectionError as err:
                sent = not _never_reached_server(err)
                log.warning(
                    "create of turn %s: no response (sent: %s, %s)", self.turn_id, sent, err
                )
                raise NoResponse(sent=sent) from err
            except (openai.RateLimitError, openai.InternalServerError) as err:
                await self._wait_before_retry(err, attempt)
            except openai.BadRequestError as err:
                if "container" not in error_message_of(err).lower() or replaced:
                    raise engine_error_from(err) from err
                if not fixed_container and await self._container_is_dead():
                    fixed_container = True
                    await self._renew_sandbox()
                    continue
                replaced = True
                yield ConversationReplaced(await self._replace_conversation())

    async def _wait_before_retry(self, err: openai.APIStatusError, attempt: int) -> None:
        timing = self.ctx.timing
        rate_limited = isinstance(err, openai.RateLimitError) and not is_insufficient_quota(err)
        if rate_limited and self.ctx.rate is not None:
            self.ctx.rate.rate_limited()  # fewer runs at once until the engine takes more
        if is_insufficient_quota(err) or attempt >= timing.create_attempts:
            raise engine_error_from(err) from err
        asked = retry_after_seconds(err)
        if asked is not None and asked > timing.max_wait_s:
            raise engine_error_from(err) from err  # a wait that long: the user tries later
        wait = asked if asked is not None else timing.backoff_s * 2 ** (attempt - 1)
        log.info("create refused (%s); trying again in %.1fs", err.status_code, wait)
        await asyncio.sleep(min(wait, timing.max_wait_s))

    async def _create(self) -> Stream:
        session = self.session
        if session.container_id is None:
            raise EngineError(detail="no container for the turn")
        instructions = instructions_for(
            files=self.files,
            file_paths=session.file_paths,
            left_out=session.left_out,
            font_path=session.font_path,
            wants_excel=asks_for_excel(self.question),
        )
        message: Any = {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": self.question},
                {"type": "input_text", "text": turn_marker(self.turn_id)},
            ],
        }
        client = self.ctx.client.with_options(max_retries=0)
        options = self.options
        # Up to 16 pairs of at most 64/512 characters; the turn's own key comes first.
        metadata = {"insightbot_turn": self.turn_id[:512]}
        metadata.update((k[:64], v[:512]) for k, v in options.metadata[:15])
        who = options.safety_identifier[:64] if options.safety_identifier else openai.omit
        stream = await client.responses.create(
            model=options.model or self.ctx.settings.model,
            input=[message],
            instructions=instructions,
            tools=[{"type": "code_interpreter", "container": session.container_id}],
            conversation=session.conversation_id,
            background=self.ctx.settings.background,
            stream=True,
            store=True,
            include=INCLUDE,
            metadata=metadata,
            safety_identifier=who,
        )
        self.translator.request_id = stream.response.headers.get("x-request-id")
        set_log_context(request_id=self.translator.request_id)
        log.info(
            "turn %s: response stream opened (request %s)", self.turn_id, self.translator.request_id
        )
        return stream

    async def _turn_recorded(self) -> bool:
        """Whether the conversation already holds this turn's message (a run exists).

        When the conversation cannot be read we cannot rule it out, so we say yes.
        """
        marker = turn_marker(self.turn_id)
        try:
            page = await self.ctx.client.conversations.items.list(
                self.session.conversation_id, order="desc", limit=20
            )
        except openai.OpenAIError as err:
            log.warning("could not list conversation items: %s", err)
            return True
        for item in page.data:
            for part in getattr(item, "content", None) or []:
                if marker in (getattr(part, "text", None) or ""):
                    return True
        return False

    async def _container_is_dead(self) -> bool:
        container_id = self.session.container_id
        return container_id is None or await live_container(self.ctx.client, container_id) is None

    async def _renew_sandbox(self) -> None:
        settings = self.ctx.settings
        self.session = await prepare_sandbox(
            self.ctx.client,
            conversation_id=self.session.conversation_id,
            previous=self.session,
            files=self.files,
            name=f"insightbot {self.session.conversation_id}",
            max_files=settings.max_files_per_thread,
            max_tier=settings.container_memory_max,
            note=self.note,
        )

    async def _replace_conversation(self) -> str:
        """A new conversation seeded with a summary of ``history``; returns its id."""
        old_id = self.session.conversation_id
        metadata: dict[str, str] = {}
        try:
            old = await self.ctx.client.conversations.retrieve(old_id)
            if isinstance(old.metadata, dict):
                metadata = {str(k): str(v) for k, v in old.metadata.items()}
        except openai.OpenAIError as err:
            log.warning("could not read conversation %s: %s", old_id, err)
        if len(metadata) < 16:
            metadata["insightbot_replaces"] = old_id
        items = cast(Any, summary_items(self.history))
        try:
            created = await self.ctx.client.conversations.create(items=items, metadata=metadata)
        except openai.OpenAIError as err:
            raise engine_error_from(err) from err
        await self.note(ObjectKind.CONVERSATION, created.id)
        log.info("conversation %s refused its old sandbox; replaced by %s", old_id, created.id)
        self.session = replace(self.session, conversation_id=created.id)
        return created.id
