"""The model's Markdown as Slack messages: markdown blocks, table blocks, code blocks, split
under Slack's limits. Pure: strings in, block dicts out.

``messages`` assembles messages; ``split`` cuts Markdown into pieces that fit; ``table``
renders tables (data_table or table block, or aligned text); ``text`` measures and flattens
text; ``charts`` turns the model's chart descriptions into native chart blocks.
"""

from bot.slack.render.charts import CHART_SUFFIX, chart_block_for, chart_problem
from bot.slack.render.messages import (
    MAX_BLOCKS,
    SlackMessage,
    TableCaption,
    code_blocks_for,
    code_messages_for,
    plain_text_for,
    slack_messages_for,
)

__all__ = [
    "CHART_SUFFIX",
    "MAX_BLOCKS",
    "SlackMessage",
    "TableCaption",
    "chart_block_for",
    "chart_problem",
    "code_blocks_for",
    "code_messages_for",
    "plain_text_for",
    "slack_messages_for",
]
