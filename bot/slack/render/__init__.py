"""The model's Markdown as Slack messages: markdown blocks, table blocks, code blocks, split
under Slack's limits. Pure: strings in, block dicts out.

``messages`` assembles messages; ``split`` cuts Markdown into pieces that fit; ``table``
renders tables (table block or aligned text); ``text`` measures and flattens text.
"""

from bot.slack.render.messages import (
    MAX_BLOCKS,
    SlackMessage,
    code_blocks_for,
    code_messages_for,
    plain_text_for,
    slack_messages_for,
)

__all__ = [
    "MAX_BLOCKS",
    "SlackMessage",
    "code_blocks_for",
    "code_messages_for",
    "plain_text_for",
    "slack_messages_for",
]
