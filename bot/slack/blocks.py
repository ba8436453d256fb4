"""Block Kit pieces the bot's own messages are made of: its buttons (and their action ids,
which the handlers route) and a plain section."""

from __future__ import annotations

from typing import Any

from bot.slack.render import MAX_BLOCKS, SlackMessage

__all__ = [
    "FEEDBACK_ACTION",
    "REPEAT_ACTION",
    "RETRY_ACTION",
    "SHOW_CODE_ACTION",
    "STOP_ACTION",
    "button_block",
    "buttons_block",
    "feedback_block",
    "section_block",
    "with_button",
]

SHOW_CODE_ACTION = "show_code"
RETRY_ACTION = "retry_turn"
STOP_ACTION = "stop_turn"
FEEDBACK_ACTION = "answer_feedback"
REPEAT_ACTION = "repeat_answer"  # value: the turn id; opens the schedule modal
POSITIVE, NEGATIVE = "up", "down"
SECTION_TEXT_LIMIT = 2900  # Slack allows 3,000 characters in a section's text


def button_block(
    *, action_id: str, text: str, value: str, style: str | None = None
) -> dict[str, Any]:
    """An actions block holding one button."""
    return buttons_block([(action_id, text, value)], style=style)


def buttons_block(
    buttons: list[tuple[str, str, str]], *, style: str | None = None
) -> dict[str, Any]:
    """An actions block holding buttons side by side, each (action id, text, value); the
    block id is the first one's ``action id:value``."""
    elements: list[dict[str, Any]] = []
    for action_id, text, value in buttons:
        button: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "value": value,
        }
        if style:
            button["style"] = style
        elements.append(button)
    action_id, _, value = buttons[0]
    return {"type": "actions", "block_id": f"{action_id}:{value}"[:255], "elements": elements}


def feedback_block(*, turn_id: str, labels: tuple[str, str]) -> dict[str, Any]:
    """Slack's 👍/👎 feedback buttons (a context_actions block) for one turn's answer; each
    button's value is ``up:<turn id>`` or ``down:<turn id>``. ``labels`` are read out by
    screen readers (positive, negative)."""

    def button(emoji: str, value: str, label: str) -> dict[str, Any]:
        return {
            "text": {"type": "plain_text", "text": emoji},
            "value": f"{value}:{turn_id}",
            "accessibility_label": label[:75],
        }

    return {
        "type": "context_actions",
        "block_id": f"{FEEDBACK_ACTION}:{turn_id}"[:255],
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": FEEDBACK_ACTION,
                "positive_button": button("👍", POSITIVE, labels[0]),
                "negative_button": button("👎", NEGATIVE, labels[1]),
            }
        ],
    }


def section_block(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_TEXT_LIMIT]}}


def with_button(parts: list[SlackMessage], block: dict[str, Any]) -> list[SlackMessage]:
    """``parts`` with ``block`` added to the last message (a new message if that one is full)."""
    if parts and len(parts[-1].blocks) < MAX_BLOCKS:
        return [*parts[:-1], parts[-1].with_blocks([block])]
    return [*parts, SlackMessage(text=" ", blocks=(block,))]
