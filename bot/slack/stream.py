"""The answer shown while it is written: ``AnswerStream``.

It streams the answer with Slack's chat streaming (chat.startStream / appendStream /
stopStream), task steps as ``task_update`` chunks. What the streamed message
becomes: at ``finish`` the stream is stopped and the message is replaced (chat.update) by the
first rendered final message; further final messages follow as replies in the thread. So the
answer users keep is the rendered one (tables, split under Slack's limits) and nothing is cut
off by the preview.

Where streaming is unavailable (startStream refused, or a channel without a recipient) or the
stream dies mid-way (appendStream/stopStream refused, e.g. ``message_not_in_streaming_state``),
the same message continues as chat.postMessage + throttled chat.update. The full text is kept
here, so no text is lost whichever way the answer travels.

Every text leaves through bot.slack.neutralize, by the rules of its field: streamed text and
task titles as markdown (each piece knowing the text before it, so no sequence is assembled
across two pieces), message text as mrkdwn, blocks by their own types.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.messages.chunk import MarkdownTextChunk, TaskUpdateChunk
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import error_code, problem_for
from bot.slack.neutralize import blocks_for_slack, for_markdown, for_mrkdwn, markdown_piece

log = logging.getLogger(__name__)

# The streamed preview stops growing here (one appendStream takes at most 12,000 characters,
# and the final rendered answer replaces the preview anyway).
STREAM_PREVIEW_CHARS = 10_000
# The fallback preview shows the tail of the text, as plain message text.
UPDATE_PREVIEW_CHARS = 3_500
_BLOCK_ERRORS = frozenset({"invalid_blocks", "msg_blocks_too_long", "invalid_blocks_format"})
_FAILURES = (SlackClientError, OSError, TimeoutError)


class MessageLike(Protocol):
    """One Slack message to post: fallback ``text`` plus Block Kit ``blocks``.

    A message may also have ``alternatives``: plainer block lists, tried in order when Slack
    refuses the blocks (see bot.slack.render.SlackMessage).
    """

    @property
    def text(self) -> str: ...

    @property
    def blocks(self) -> Sequence[Mapping[str, Any]]: ...


Mode = Literal["new", "stream", "fallback"]


class AnswerStream:
    """One answer in a thread, shown while it is written. Build it via SlackGateway.start_answer.

    ``task`` and ``append_text`` never raise (progress is cosmetic; failures are logged and the
    stream degrades to message updates). ``finish`` and ``fail`` raise SlackProblem when the
    answer could not be placed in the thread at all.
    """

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        channel: str,
        thread_ts: str,
        recipient_user_id: str | None,
        recipient_team_id: str | None,
        is_dm: bool,
        stream_interval_s: float = 1.0,
        update_interval_s: float = 1.5,
        task_display_mode: str = "timeline",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ts: str | None = None
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts
        self._recipient_user_id = recipient_user_id
        self._recipient_team_id = recipient_team_id
        # Slack requires the recipient when streaming in a channel; without it, no stream.
        can_stream = is_dm or bool(recipient_user_id and recipient_team_id)
        self._mode: Mode = "new" if can_stream else "fallback"
        self._stream_interval_s = stream_interval_s
        self._update_interval_s = update_interval_s
        self._task_display_mode = task_display_mode
        self._clock = clock
        self._text = ""
        self._streamed = 0  # characters of _text already sent to the stream
        self._tasks: dict[str, tuple[str, str]] = {}  # id -> (title, status), in order
        self._last_sent = float("-inf")
        self._closed = False
        self._delivered = False  # finish() placed the whole answer
        # Per final message: which of its block lists went out (0 = its own blocks, then its
        # alternatives in order; one past them = the plain text only).
        self.placed_variants: list[int] = []
        self._lock = asyncio.Lock()

    @property
    def streaming(self) -> bool:
        """Whether the answer currently travels as a Slack stream."""
        return self._mode in ("new", "stream")

    # ------------------------------------------------------------ while the answer is written

    async def task(self, *, id: str, title: str, status: str) -> None:
        """Show a step (``status``: pending, in_progress, complete, error). Never raises."""
        async with self._lock:
            if self._closed:
                return
            self._tasks[id] = (title, status)
            chunk = _task_chunk(id, title, status)
            if self.streaming:
                await self._send_stream(extra=[chunk])
            else:
                await self._update_preview(force=False)

    async def append_text(self, text: str) -> None:
        """Add answer text; sent at most once per interval (the rest waits). Never raises."""
        async with self._lock:
            if self._closed or not text:
                return
            self._text += text
            if self._clock() - self._last_sent < self._interval():
                return
            if self.streaming:
                await self._send_stream(extra=[])
            else:
                await self._update_preview(force=True)

    # ------------------------------------------------------------ the end

    def adopt(self, ts: str) -> None:
        """Continue an answer message a previous process created (after a restart).

        The message may still be a live stream on Slack's side: finishing stops it first, and
        falls back to chat.update when Slack says it is no longer streaming.
        """
        self.ts = ts
        self._mode = "stream"

    async def finish(self, *, final_messages: Sequence[MessageLike]) -> list[str]:
        """Replace the preview with the rendered answer; return the ts of every message.

        Raises SlackProblem when a message of the answer could not be posted.
        """
        async with self._lock:
            if self._closed:
                raise RuntimeError("this answer was already finished")
            self._closed = True
            await self._stop_stream(status="complete", closing_text=None)
            ts_list: list[str] = []
            for index, message in enumerate(final_messages):
                target = self.ts if index == 0 else None
                variants = [message.blocks, *getattr(message, "alternatives", ())]
                placed, variant = await self._place(message.text, variants, ts=target)
                ts_list.append(placed)
                self.placed_variants.append(variant)
            if not final_messages and self.ts:
                ts_list.append(self.ts)
            self._delivered = True
            return ts_list

    async def fail(self, *, text: str) -> None:
        """End the answer with ``text`` (what went wrong) after whatever was written so far.

        After a ``finish`` that delivered the answer this does nothing; after one that raised,
        ``text`` is posted as a new reply. Raises SlackProblem when even that failed.
        """
        async with self._lock:
            if self._delivered:
                return
            if self._closed:
                await self._place(text, [], ts=None)
                return
            self._closed = True
            if await self._stop_stream(status="error", closing_text=text):
                return
            shown = self._preview(UPDATE_PREVIEW_CHARS - len(text), with_step=False)
            await self._place(f"{shown}\n\n{text}" if shown else text, [], ts=self.ts)

    # ------------------------------------------------------------ streaming

    def _interval(self) -> float:
        return self._stream_interval_s if self.streaming else self._update_interval_s

    async def _send_stream(self, *, extra: list[TaskUpdateChunk]) -> None:
        """Send unsent text (up to the preview cap) plus ``extra`` chunks; degrade on error."""
        end = min(len(self._text), max(self._streamed, STREAM_PREVIEW_CHARS))
        pending = self._text[self._streamed : end]
        chunks: list[TaskUpdateChunk | MarkdownTextChunk] = []
        if pending:
            piece = markdown_piece(self._text, start=self._streamed, end=end)
            chunks.append(MarkdownTextChunk(text=piece))
        chunks.extend(extra)
        if not chunks:
            return
        try:
            if self.ts is None:
                resp = await self._client.chat_startStream(
                    channel=self._channel,
                    thread_ts=self._thread_ts,
                    recipient_user_id=self._recipient_user_id,
                    recipient_team_id=self._recipient_team_id,
                    task_display_mode=self._task_display_mode,
                    chunks=chunks,
                )
                self.ts = str(resp["ts"])
                self._mode = "stream"
            else:
                await self._client.chat_appendStream(
                    channel=self._channel, ts=self.ts, chunks=chunks
                )
        except _FAILURES as exc:
            log.info(
                "streaming unavailable in %s/%s (%s); continuing with message updates",
                self._channel,
                self._thread_ts,
                error_code(exc) or type(exc).__name__,
            )
            self._mode = "fallback"
            await self._update_preview(force=True)
            return
        self._streamed += len(pending)
        self._last_sent = self._clock()

    async def _stop_stream(self, *, status: str, closing_text: str | None) -> bool:
        """Stop a live stream, closing open steps with ``status`` and adding ``closing_text``.

        Returns True when the stream took ``closing_text`` (nothing else needs posting).
        """
        if self._mode != "stream" or self.ts is None:
            return False
        chunks: list[TaskUpdateChunk | MarkdownTextChunk] = [
            _task_chunk(task_id, title, status)
            for task_id, (title, old) in self._tasks.items()
            if old not in ("complete", "error")
        ]
        if closing_text is not None:
            end = min(len(self._text), max(self._streamed, STREAM_PREVIEW_CHARS))
            pending = markdown_piece(self._text, start=self._streamed, end=end, more=False)
            chunks.append(MarkdownTextChunk(text=f"{pending}\n\n{for_markdown(closing_text)}"))
        try:
            await self._client.chat_stopStream(
                channel=self._channel, ts=self.ts, chunks=chunks or None
            )
        except _FAILURES as exc:
            # An expired stream is still a message: chat.update can take it over.
            log.info("could not stop the stream %s: %s", self.ts, error_code(exc) or exc)
            self._mode = "fallback"
            return False
        return closing_text is not None

    # ------------------------------------------------------------ plain messages

    def _preview(self, limit: int, *, with_step: bool = True) -> str:
        """The tail of the text so far, plus the running step as an italic line."""
        text = self._text
        if len(text) > limit:
            text = "…" + text[-max(0, limit - 1) :]
        running = [title for title, status in self._tasks.values() if status == "in_progress"]
        if running and with_step:
            line = f"_{running[-1]}…_"
            text = f"{text}\n\n{line}" if text else line
        return text

    async def _update_preview(self, *, force: bool) -> None:
        """Post or update the fallback message with the text so far. Never raises."""
        if not force and self._clock() - self._last_sent < self._update_interval_s:
            return
        text = for_mrkdwn(self._preview(UPDATE_PREVIEW_CHARS))
        if not text:
            return
        self._last_sent = self._clock()
        try:
            if self.ts is None:
                resp = await self._client.chat_postMessage(
                    channel=self._channel, thread_ts=self._thread_ts, text=text
                )
                self.ts = str(resp["ts"])
            else:
                await self._client.chat_update(channel=self._channel, ts=self.ts, text=text)
        except _FAILURES as exc:
            log.warning(
                "could not show progress in %s/%s: %s",
                self._channel,
                self._thread_ts,
                error_code(exc) or type(exc).__name__,
            )

    async def _place(
        self, text: str, variants: Sequence[Sequence[Mapping[str, Any]]], *, ts: str | None
    ) -> tuple[str, int]:
        """Put one message in the thread: update ``ts`` if given, else post.

        Returns its ts and which of ``variants`` went out (``len(variants)`` for the plain
        ``text`` alone). Blocks Slack refuses give way to the next, plainer variant, then to
        the plain text, so the answer still lands; an update refused for another reason
        becomes a new reply (the old preview is deleted).
        """
        options = [*(v for v in variants if v), ()]
        for index, blocks in enumerate(options):
            plainer_left = index < len(options) - 1
            if ts is not None:
                try:
                    await self._client.chat_update(
                        channel=self._channel,
                        ts=ts,
                        text=for_mrkdwn(text),
                        blocks=blocks_for_slack(blocks),
                    )
                    return ts, self._variant(variants, blocks)
                except _FAILURES as exc:
                    if plainer_left and error_code(exc) in _BLOCK_ERRORS:
                        log.warning(
                            "Slack refused blocks (%s); trying plainer ones", error_code(exc)
                        )
                        continue
                    log.warning("could not replace message %s: %s", ts, error_code(exc) or exc)
                    with contextlib.suppress(*_FAILURES):
                        await self._client.chat_delete(channel=self._channel, ts=ts)
                    ts = None
            try:
                return await self._post(text, blocks), self._variant(variants, blocks)
            except SlackApiError as exc:
                if not plainer_left or error_code(exc) not in _BLOCK_ERRORS:
                    raise problem_for("chat.postMessage", exc) from exc
                log.warning("Slack refused blocks (%s); trying plainer ones", error_code(exc))
        raise AssertionError("the plain text is always the last option")

    @staticmethod
    def _variant(
        variants: Sequence[Sequence[Mapping[str, Any]]], blocks: Sequence[Mapping[str, Any]]
    ) -> int:
        return next((i for i, v in enumerate(variants) if v and v is blocks), len(variants))

    async def _post(self, text: str, blocks: Sequence[Mapping[str, Any]]) -> str:
        try:
            resp = await self._client.chat_postMessage(
                channel=self._channel,
                thread_ts=self._thread_ts,
                text=for_mrkdwn(text),
                blocks=blocks_for_slack(blocks) or None,
            )
        except SlackApiError:
            raise
        except _FAILURES as exc:
            raise problem_for("chat.postMessage", exc) from exc
        return str(resp["ts"])


def _task_chunk(task_id: str, title: str, status: str) -> TaskUpdateChunk:
    return TaskUpdateChunk(id=task_id, title=for_markdown(title), status=status)
