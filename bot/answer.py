"""Steps 5 and 6 of a turn: the final answer, its charts and files, and failure messages.

The streamed message is finalised in place: the stream stops, and the message is updated into
the first rendered part of the answer (Slack markdown, with a table block when there is one);
continuations follow as replies, so long answers are complete and tables render as tables.
The last part carries a "Show code" button when code ran.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from bot import messages
from bot.services import Services
from bot.slack.gateway import AnswerStream, OutgoingFile
from bot.slack.render import SlackMessage, slack_messages_for
from bot.types import Artifact, Failed, Finished, ThreadKey
from storage.records import TurnRecord

log = logging.getLogger(__name__)

SHOW_CODE_ACTION = "show_code"
RETRY_ACTION = "retry_turn"
STOP_ACTION = "stop_turn"


@dataclass
class AnswerOutcome:
    """What the engine produced for one turn, gathered while following its events."""

    response_id: str | None = None
    sequence: int | None = None
    code: list[str] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    text_started: bool = False
    finished: Finished | None = None
    failed: Failed | None = None
    stopped_by: str | None = None


def button_block(
    *, action_id: str, text: str, value: str, style: str | None = None
) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
    }
    if style:
        button["style"] = style
    return {"type": "actions", "block_id": f"{action_id}:{value}"[:255], "elements": [button]}


def with_button(parts: list[SlackMessage], block: dict[str, Any]) -> list[SlackMessage]:
    """``parts`` with ``block`` added to the last message (a new message if that one is full)."""
    if parts and len(parts[-1].blocks) < 50:
        last = parts[-1]
        return [*parts[:-1], SlackMessage(text=last.text, blocks=(*last.blocks, block))]
    return [*parts, SlackMessage(text=" ", blocks=(block,))]


async def post_final_answer(
    *,
    services: Services,
    turn: TurnRecord,
    stream: AnswerStream,
    outcome: AnswerOutcome,
    lang: str,
) -> str | None:
    """Finish the streamed message into the rendered answer; returns the first message's ts."""
    assert outcome.finished is not None
    text = outcome.finished.text.strip() or "(no text)"
    parts = slack_messages_for(text)
    if outcome.code or outcome.finished.code:
        label = "코드 보기" if lang == "ko" else "Show code"
        parts = with_button(
            parts, button_block(action_id=SHOW_CODE_ACTION, text=label, value=turn.id)
        )
    timestamps = await stream.finish(final_messages=parts)
    return timestamps[0] if timestamps else stream.ts


def _alt_text(artifact: Artifact, question: str) -> str:
    stem = artifact.name.rsplit(".", 1)[0].replace("_", " ").replace("-", " ")
    return f"{stem} — chart for: {question}"[:1000]


async def post_artifacts(
    *, services: Services, turn: TurnRecord, thread: ThreadKey, outcome: AnswerOutcome
) -> None:
    """Upload the charts and files not yet posted for this turn, together in one message."""
    already = set(turn.posted_artifacts)
    fresh = [a for a in outcome.artifacts if a.file_id not in already]
    if not fresh:
        return
    files = [
        OutgoingFile(
            name=a.name,
            data=a.data,
            title=a.name,
            alt_text=_alt_text(a, turn.question)
            if (a.mime_type or mimetypes.guess_type(a.name)[0] or "").startswith("image/")
            else None,
        )
        for a in fresh
    ]
    await services.slack.upload_files(
        channel=thread.channel, thread_ts=thread.thread_ts, files=files
    )
    for artifact in fresh:
        await services.store.add_posted_artifact(turn.id, artifact.file_id)


async def post_failure(
    *,
    services: Services,
    turn: TurnRecord,
    stream: AnswerStream | None,
    message_text: str,
    retryable: bool,
    lang: str,
    thread: ThreadKey | None = None,
) -> None:
    """Tell the thread what went wrong, with a Retry button when trying again can help."""
    text = messages.failure(lang, message_text)
    if stream is not None:
        await stream.fail(text=text)
        if not retryable:
            return
        text = " "
    blocks: list[dict[str, Any]] = []
    if text.strip():
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    if retryable:
        label = "다시 시도" if lang == "ko" else "Retry"
        blocks.append(button_block(action_id=RETRY_ACTION, text=label, value=turn.id))
    key = thread or ThreadKey.parse(turn.thread_key)
    await services.slack.post_message(
        channel=key.channel,
        thread_ts=key.thread_ts,
        text=message_text if not text.strip() else text,
        blocks=blocks,
    )
