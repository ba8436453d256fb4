"""What every catalogue module shares: the language of a text, the choice between the two
wordings, and the bot's own mentions and dates.

Mentions and date tokens come from ``mention`` and ``when`` only: they mark the bot's own
markup so that it survives the escaping every text gets on its way to Slack
(bot/slack/neutralize.py), while the same characters in names, questions or answers are shown
as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from bot.slack.neutralize import trusted_date, trusted_mention

# A catalogue entry with its arguments given, waiting for the language: what an error
# carries, so that whoever shows it picks the reader's language (``InsightbotError.text_for``).
Words = Callable[[str], str]

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")


def language_of(text: str) -> str:
    """'ko' when the text contains Hangul, else 'en'."""
    return "ko" if _HANGUL.search(text or "") else "en"


def pick(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def mention(user: str) -> str:
    """A mention of a Slack user id; anything else (not an id) is shown as the text it is."""
    return trusted_mention(user) or user


def when(ts: str) -> str:
    """Slack's date token: shown in each reader's own time zone, with a UTC fallback."""
    try:
        seconds = int(float(ts))
    except ValueError:
        return ts
    fallback = datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return trusted_date(seconds, fallback)


def megabytes(size: int) -> str:
    """Bytes in the MB the settings use (1 MB = 1,048,576 bytes), e.g. "300 MB", "0.5 MB"."""
    mb = size / (1024 * 1024)
    if mb >= 10:
        return f"{mb:.0f} MB"
    if mb >= 0.1:
        return f"{mb:.1f} MB".replace(".0 MB", " MB")
    return f"{-(-size // 1024)} KB"
