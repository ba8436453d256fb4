"""Steps 5 and 6 of a turn: the final answer, its charts and files, failure messages, and the
small "working" message that carries the Stop button.

Slack posts and uploads take no idempotency key, so every write is ordered to be repeatable
after a restart without showing anything twice:

- the answer's first message is created before the engine runs and its ts is stored; the
  final answer only ever *updates* it (repeating an update is harmless);
- each continuation message of a long answer is recorded (the turn's ``answer_parts``) right
  after it is posted, and skipped when already recorded;
- charts and files go up one Slack message per batch (at most FILES_PER_MESSAGE), and each
  batch's engine file ids are recorded right after Slack confirmed it.

A crash can only duplicate the one post whose confirmation had not been recorded yet.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import messages
from bot.errors import SlackProblem
from bot.services import Services
from bot.slack.blocks import (
    REPEAT_ACTION,
    RETRY_ACTION,
    SHOW_CODE_ACTION,
    STOP_ACTION,
    button_block,
    buttons_block,
    feedback_block,
    section_block,
    with_button,
)
from bot.slack.gateway import FILES_PER_MESSAGE, AnswerStream, OutgoingFile
from bot.slack.render import SlackMessage, slack_messages_for
from bot.turn.ledger import TurnLedger
from bot.turn.state import AnswerOutcome
from bot.types import Artifact, ThreadKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlacedAnswer:
    """Where the answer went: its first message, and whether its native charts are in it."""

    ts: str | None
    charts_shown: bool = False


async def post_final_answer(
    *,
    services: Services,
    ledger: TurnLedger,
    thread: ThreadKey,
    stream: AnswerStream,
    outcome: AnswerOutcome,
    lang: str,
    charts: Sequence[dict[str, Any]] = (),
    repeatable: bool = False,
) -> PlacedAnswer:
    """Finish the answer message into the rendered answer, then post what does not fit.

    With ``repeatable`` the answer has a "Repeat…" button (make it a recurring analysis)
    beside Show code. ``charts`` (native chart blocks) go at the end of the first message; when Slack refuses
    them that message goes out without them (``charts_shown`` is then False and the caller
    posts their PNGs). Continuations already recorded for this turn are not posted again.
    Raises SlackProblem when Slack refused the answer.
    """
    assert outcome.finished is not None
    text = outcome.finished.text.strip() or messages.empty_answer(lang)
    parts = slack_messages_for(text, table_caption=lambda n: messages.table_caption(lang, n))
    if charts and parts:
        parts = [parts[0].with_blocks(charts, optional=True), *parts[1:]]
    buttons: list[tuple[str, str, str]] = []
    if outcome.code or outcome.finished.code:
        buttons.append((SHOW_CODE_ACTION, messages.show_code_label(lang), ledger.turn_id))
    if repeatable:
        buttons.append((REPEAT_ACTION, messages.repeat_label(lang), ledger.turn_id))
    if buttons:
        parts = with_button(parts, buttons_block(buttons))
    labels = messages.feedback_labels(lang)
    parts = with_button(parts, feedback_block(turn_id=ledger.turn_id, labels=labels))
    stored = await services.store.get_turn(ledger.turn_id)
    done = set(stored.answer_parts) if stored is not None else set()
    timestamps = await stream.finish(final_messages=parts[:1])
    answer_ts = timestamps[0] if timestamps else stream.ts
    if answer_ts:
        await ledger.answer_message_posted(answer_ts)
    for number, part in enumerate(parts[1:], start=1):
        if number in done:
            continue
        await _post_part(services, thread, part)
        await ledger.answer_part_posted(number)
    shown = bool(charts and parts) and stream.placed_variants[:1] == [0]
    return PlacedAnswer(ts=answer_ts, charts_shown=shown)


async def _post_part(services: Services, thread: ThreadKey, part: SlackMessage) -> None:
    """Post one continuation; blocks Slack refuses give way to plainer ones, then the text."""
    for blocks in (part.blocks, *part.alternatives, ()):
        try:
            await services.slack.post_message(
                channel=thread.channel, thread_ts=thread.thread_ts, text=part.text, blocks=blocks
            )
            return
        except SlackProblem as problem:
            if not blocks or "block" not in (problem.detail or ""):
                raise
            log.warning("Slack refused a part's blocks (%s); trying plainer ones", problem.detail)


def _alt_text(artifact: Artifact, question: str, lang: str) -> str:
    stem = artifact.name.rsplit(".", 1)[0].replace("_", " ").replace("-", " ")
    return messages.chart_alt_text(lang, stem, question)[:1000]


def _outgoing(artifact: Artifact, question: str, lang: str) -> OutgoingFile:
    mime = artifact.mime_type or mimetypes.guess_type(artifact.name)[0] or ""
    return OutgoingFile(
        name=artifact.name,
        path=artifact.path,
        size=artifact.size,
        title=artifact.name,
        alt_text=_alt_text(artifact, question, lang) if mime.startswith("image/") else None,
    )


async def post_artifacts(
    *,
    services: Services,
    ledger: TurnLedger,
    thread: ThreadKey,
    question: str,
    artifacts: Sequence[Artifact],
    lang: str,
) -> list[str]:
    """Upload the charts and files not yet posted for this turn, one message per batch.

    Each batch is recorded as soon as Slack confirmed it. Returns the names of files Slack
    refused even after its client's retries (the caller tells the thread); never raises
    SlackProblem.
    """
    stored = await services.store.get_turn(ledger.turn_id)
    already = set(stored.posted_artifacts) if stored is not None else set()
    fresh: list[Artifact] = []
    for artifact in artifacts:
        if artifact.file_id not in already and all(a.file_id != artifact.file_id for a in fresh):
            fresh.append(artifact)
    refused: list[str] = []
    for start in range(0, len(fresh), FILES_PER_MESSAGE):
        batch = fresh[start : start + FILES_PER_MESSAGE]
        try:
            await services.slack.upload_files(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                files=[_outgoing(a, question, lang) for a in batch],
            )
        except SlackProblem as problem:
            log.error("Slack refused the turn's files: %s", problem.detail)
            refused.extend(a.name for a in batch)
            continue
        await ledger.artifacts_posted([a.file_id for a in batch])
    return refused


async def post_failure(
    *,
    services: Services,
    turn_id: str,
    thread: ThreadKey,
    stream: AnswerStream | None,
    message_text: str,
    retryable: bool,
    lang: str,
) -> None:
    """Tell the thread what went wrong, with a Retry button when trying again can help.

    The text ends the answer message when there is one (after what was written so far); the
    button follows in a message of its own. Raises SlackProblem when nothing could be posted.
    """
    text = messages.failure(lang, message_text, turn_id)
    placed = False
    if stream is not None:
        try:
            await stream.fail(text=text)
            placed = True
        except SlackProblem as problem:
            log.warning("could not end the answer message with the failure: %s", problem.detail)
    if placed and not retryable:
        return
    blocks: list[dict[str, Any]] = [] if placed else [section_block(text)]
    if retryable:
        label = messages.retry_label(lang)
        blocks.append(button_block(action_id=RETRY_ACTION, text=label, value=turn_id))
    await services.slack.post_message(
        channel=thread.channel, thread_ts=thread.thread_ts, text=text, blocks=blocks
    )


async def post_working_message(
    *, services: Services, turn_id: str, thread: ThreadKey, lang: str
) -> str | None:
    """Post the small "working" message with the Stop button; None when Slack refused it."""
    blocks = [
        section_block(messages.working(lang)),
        button_block(
            action_id=STOP_ACTION, text=messages.stop_label(lang), value=turn_id, style="danger"
        ),
    ]
    try:
        return await services.slack.post_message(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            text=messages.working(lang),
            blocks=blocks,
        )
    except SlackProblem as problem:
        log.warning("could not post the working message: %s", problem.detail)
        return None


async def end_working_message(*, services: Services, thread: ThreadKey, ts: str) -> None:
    """Delete the working message (or at least take its Stop button away). Never raises."""
    try:
        await services.slack.delete_message(channel=thread.channel, ts=ts)
        return
    except SlackProblem as problem:
        log.warning("could not delete the working message %s: %s", ts, problem.detail)
    try:
        await services.slack.update_message(channel=thread.channel, ts=ts, text="✓", blocks=())
    except SlackProblem as problem:
        log.warning("could not update the working message %s: %s", ts, problem.detail)
