"""Pure translation of Slack payloads into our own types: dicts in, dataclasses (or None) out.

No I/O and no SDK imports, so every rule about which messages the bot answers is tested as a
table. Malformed or unexpected payloads give ``None``; nothing here raises.

Which messages count (``incoming_message_for``):
- ``app_mention`` from a person: always.
- ``message`` in a DM (``im``): every message from a person, plain or with files.
- ``message`` elsewhere (channel, private channel, group DM): when the text mentions the bot
  (Slack sometimes delivers a mention with a file only as a ``file_share`` message), or when
  it is a reply in a thread the bot has answered (``answered_thread``), unless the reply opens
  by addressing another person.
- Never: bots (the bot itself included), edits, deletions, joins and other subtypes, hidden
  messages. ``thread_broadcast`` (a reply also sent to the channel) is a normal reply.

A mention with a file can arrive twice (``app_mention`` and ``message``); both parse to the same
IncomingMessage, so the intake deduplicates them on (team, channel, ts).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.home import ChannelSettingsForm
from bot.schedule_modal import SCHEDULE_MODAL_CALLBACK, ScheduleSubmission
from bot.schedules.modal_view import form_of
from bot.slack.file_hosts import is_remote_file
from bot.types import IncomingMessage, SlackFile, ThreadKey
from handlers.manifest_facts import BOT_SCOPES, EVENT_TYPES_HANDLED, SUBSCRIBED_EVENTS

__all__ = [
    "BOT_SCOPES",
    "EVENT_TYPES_HANDLED",
    "SUBSCRIBED_EVENTS",
    "ActionRequest",
    "HomeOpened",
    "ViewAction",
    "channel_file_share_for",
    "channel_settings_form_for",
    "conversation_kind_for",
    "enterprise_of",
    "file_mention_names",
    "home_opened_for",
    "incoming_message_for",
    "readable_text",
    "schedule_submission_for",
    "slack_files_for",
    "unmentioned_reply_thread_for",
    "view_action_for",
]

_PERSON_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
_CHANNEL_TYPE_BY_PREFIX = {"C": "channel", "G": "group", "D": "im"}
# Deleted files, files past a free plan's limit, and files the bot may not see: nothing to fetch.
_UNREADABLE_MODES = frozenset({"tombstone", "hidden_by_limit"})
_UNREADABLE_ACCESS = frozenset({"access_denied"})

_ENTITY = re.compile(r"<([^<>]*)>")
_ESCAPES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_ESCAPE = re.compile("|".join(_ESCAPES))
_OPENS_WITH_USER = re.compile(r"^\s*<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")

DATA_EXTENSIONS: tuple[str, ...] = (
    "csv", "tsv", "txt", "xlsx", "xlsm", "xls", "ods", "json", "jsonl", "ndjson", "parquet",
    "parq", "pq", "gz", "bz2", "xz", "zip", "png", "jpg", "jpeg", "gif", "webp",
)  # fmt: skip


def _caseless(word: str) -> str:
    """``csv`` → ``[cC][sS][vV]``: explicit classes, because re.IGNORECASE makes every
    pattern here about seven times slower. ``ſ`` matches ``s`` as re.IGNORECASE has it."""
    return "".join(f"[{c.lower()}{c.upper()}{'ſ' if c.lower() == 's' else ''}]" for c in word)


_EXT = "|".join(_caseless(e) for e in sorted(DATA_EXTENSIONS, key=len, reverse=True))
# A name is quoted ("Q1 sales.xlsx", `a.csv`, 「매출.xlsx」) or a run without spaces; it ends at
# anything but a letter/digit of the Latin script, so Korean particles may follow: 매출.xlsx로.
# Every pattern below is applied so that the whole scan stays linear in the text's length: no
# pattern is retried from each position of a long run (one message of 20,000 characters like
# ``a.a.a.…`` once froze the event loop for 17 s).
_OPEN_QUOTES = "\"'`“‘「『"
_CLOSE_QUOTES = "\"'`”’」』"
_OPEN_QUOTE = re.compile(f"[{_OPEN_QUOTES}]")
# The last character that ends quoted text (a closing quote or a line break) in a range.
_LAST_QUOTE_STOP = re.compile(f"(?s:.*)[{_CLOSE_QUOTES}\n]")
# ".csv" right before a closing quote: the only place a quoted name can end.
_QUOTED_TAIL = re.compile(rf"\.(?:{_EXT})[{_CLOSE_QUOTES}]")
_NAME_CHAR = r"[^\s\"'`()\[\]{}<>“”‘’「」『』,;:/\\|]"
_LATIN = "A-Za-z0-9\u0130\u0131\u017f\u212a"  # what [A-Za-z0-9] matches ignoring case
# A run of name characters from its first one (the lookbehind rejects every later start in
# O(1)), up to its rightmost ".csv" that no Latin letter, digit or further extension follows.
_PLAIN_NAME = re.compile(
    rf"(?<!{_NAME_CHAR}){_NAME_CHAR}+\.(?:{_EXT})(?![{_LATIN}_-]|\.[{_LATIN}])"
)
# File names are looked for only near the start of a question.
NAME_SCAN_CHARS = 4000
MARKUP_ALLOWANCE = 1000  # raw characters beyond the question limit kept for markup to fall away
_MARKER = "\x00"  # stands for the bot's own mention while the text is tidied
_SPACE_OR_TAB = " \t"


@dataclass(frozen=True)
class ActionRequest:
    """A button click on one of the bot's messages (a ``block_actions`` payload)."""

    action_id: str
    value: str
    user: str
    team: str
    channel: str
    message_ts: str
    thread_ts: str
    response_url: str | None = None
    trigger_id: str | None = None  # opens a modal within 3 s of the click


@dataclass(frozen=True)
class ShortcutRequest:
    """A message shortcut used on a message (a ``message_action`` payload)."""

    callback_id: str
    user: str
    team: str
    channel: str
    message_ts: str
    thread_ts: str  # the message's thread (its own ts when it is not in one)
    text: str  # the message's text (for the language of the reply)


def incoming_message_for(
    *,
    body: Mapping[str, Any],
    bot_user_id: str,
    answered_thread: bool | None = None,
    max_chars: int | None = None,
) -> IncomingMessage | None:
    """The message the bot should answer in this Events API payload, or None.

    ``answered_thread`` says whether the bot has answered the thread this event replies in;
    it matters only where ``unmentioned_reply_thread_for`` returns a key (None counts as no).
    With ``max_chars``, only the first ``max_chars + 1 + MARKUP_ALLOWANCE`` characters of the
    text are read, and ``cut_short`` says when there was more (the question is too long);
    file names are looked for only in the first NAME_SCAN_CHARS.
    """
    event = _person_message(body, bot_user_id)
    if event is None:
        return None
    team = _team_of(body, event)
    channel, ts, text = event["channel"], event["ts"], _text_of(event)
    mentioned = _mentions_bot(text, bot_user_id)  # plain searches: the whole text is fine
    cut = False
    if max_chars is not None:
        # Reading removes markup (the bot's mention, link targets), so keep some room for it;
        # a text longer even than that is too long whatever reading leaves of it.
        keep = max_chars + 1 + MARKUP_ALLOWANCE
        cut = len(text) > keep
        text = text[:keep]
    channel_type = _channel_type_of(event)
    if event["type"] == "message" and channel_type != "im" and not mentioned:
        if _thread_ts_of(event) == ts or not answered_thread:
            return None
        if _addressed_to_someone_else(text, bot_user_id):
            return None
    question = readable_text(text, bot_user_id=bot_user_id)
    return IncomingMessage(
        thread=ThreadKey(team=team, channel=channel, thread_ts=_thread_ts_of(event)),
        ts=ts,
        user=event["user"],
        text=question,
        files=slack_files_for(event.get("files"), user_team=_sender_team(event)),
        channel_type=channel_type,
        is_mention=event["type"] == "app_mention" or mentioned,
        event_id=_str_or_none(body.get("event_id")),
        named_files=file_mention_names(question[:NAME_SCAN_CHARS]),
        cut_short=cut,
        user_team=_sender_team(event),
        enterprise=enterprise_of(body),
    )


def unmentioned_reply_thread_for(*, body: Mapping[str, Any], bot_user_id: str) -> ThreadKey | None:
    """The thread to look up when this event is a reply without a bot mention outside DMs.

    Exactly the events for which ``incoming_message_for`` depends on ``answered_thread``, so
    the caller reads storage only for those.
    """
    event = _person_message(body, bot_user_id)
    if event is None or event["type"] != "message" or _channel_type_of(event) == "im":
        return None
    thread_ts = _thread_ts_of(event)
    if thread_ts == event["ts"] or _mentions_bot(_text_of(event), bot_user_id):
        return None
    return ThreadKey(team=_team_of(body, event), channel=event["channel"], thread_ts=thread_ts)


def channel_file_share_for(
    *, body: Mapping[str, Any], bot_user_id: str | None = None
) -> tuple[ThreadKey, str, tuple[SlackFile, ...]] | None:
    """A person's files shared at the top level of a channel or private channel, or None.

    Returns (the thread the share starts, the user, the readable files) so the caller can
    remember the channel's recent files for a later question that brings none. Thread replies,
    DMs and group DMs give None, and so does a share whose files are all unreadable.
    """
    event = _person_message(body, bot_user_id or "")
    if event is None or event["type"] != "message" or event.get("subtype") != "file_share":
        return None
    if _channel_type_of(event) not in ("channel", "group") or _thread_ts_of(event) != event["ts"]:
        return None
    files = slack_files_for(event.get("files"), user_team=_sender_team(event))
    if not files:
        return None
    key = ThreadKey(team=_team_of(body, event), channel=event["channel"], thread_ts=event["ts"])
    return key, event["user"], files


def thread_file_share_for(
    *, body: Mapping[str, Any], bot_user_id: str | None = None
) -> tuple[ThreadKey, str, tuple[SlackFile, ...]] | None:
    """A person's files shared as a reply inside a thread (any conversation type), or None.

    Returns (that thread, the user, the readable files) so a later question in the same
    thread can use them; they belong to that thread only.
    """
    event = _person_message(body, bot_user_id or "")
    if event is None or event["type"] != "message" or event.get("subtype") != "file_share":
        return None
    thread_ts = _thread_ts_of(event)
    if thread_ts == event["ts"]:
        return None
    files = slack_files_for(event.get("files"), user_team=_sender_team(event))
    if not files:
        return None
    key = ThreadKey(team=_team_of(body, event), channel=event["channel"], thread_ts=thread_ts)
    return key, event["user"], files


def slack_files_for(raw_files: Any, *, user_team: str | None = None) -> tuple[SlackFile, ...]:
    """Our view of a message's ``files``; unreadable ones (deleted, over a limit) left out.

    ``user_team`` (the sender's workspace) stands for a file's own ``user_team`` when the
    file object lacks it (a Slack Connect stub has none).
    """
    if not isinstance(raw_files, list):
        return ()
    files = []
    for raw in raw_files:
        if not isinstance(raw, Mapping) or not raw.get("id"):
            continue
        if raw.get("mode") in _UNREADABLE_MODES or raw.get("file_access") in _UNREADABLE_ACCESS:
            continue
        file = _slack_file(raw)
        if file.user_team is None and user_team:
            file = replace(file, user_team=user_team)
        files.append(file)
    return tuple(files)


def readable_text(text: str, *, bot_user_id: str | None = None) -> str:
    """Slack message text as a person would read it, without the bot's own mention.

    Decodes ``&lt; &gt; &amp;``, turns ``<https://x|label>`` into ``label (https://x)``,
    ``<@U1|ann>`` into ``@ann``, ``<#C1|general>`` into ``#general`` and ``<!here>`` into
    ``@here``; tidies spaces, keeps line breaks, and normalises to NFC. Linear time.
    """
    text = text.replace(_MARKER, "")
    pieces: list[str] = []
    done = 0
    for match in _ENTITY.finditer(text):
        pieces.append(_unescape(text[done : match.start()]))
        target, _, label = match.group(1).partition("|")
        if bot_user_id and target == f"@{bot_user_id}":
            pieces.append(_MARKER)
        else:
            pieces.append(_render_entity(target, _unescape(label)))
        done = match.end()
    pieces.append(_unescape(text[done:]))
    rendered = _without_markers("".join(pieces))
    rendered = rendered.replace("\u00a0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in rendered.split("\n")]
    tidy = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return unicodedata.normalize("NFC", tidy)


def file_mention_names(text: str) -> tuple[str, ...]:
    """File names with a data extension that the question names, in order, without repeats.

    ``"use sales_2024.csv"`` → ``("sales_2024.csv",)``; ``"매출.xlsx로 해줘"`` → ``("매출.xlsx",)``.
    Linear time: the text is cut into runs once and only the ends of each run are checked.
    """
    text = unicodedata.normalize("NFC", text)
    found: dict[str, tuple[int, str]] = {}  # casefolded name -> (position, name as written)
    quoted = _quoted_names(text)
    for start, _, name in quoted:
        found.setdefault(name.casefold(), (start, name))
    quoted_starts = [start - 1 for start, _, _ in quoted]  # where each opening quote is
    for match in _PLAIN_NAME.finditer(text):
        name = match.group()
        key = name.casefold()
        if key in found:
            continue
        # A name inside quotes was taken whole above ("Q1 sales.xlsx", not "sales.xlsx").
        start = match.start()
        inside = bisect.bisect_right(quoted_starts, start) - 1
        if inside >= 0 and start < quoted[inside][1]:
            continue
        found[key] = (start, name)
    return tuple(name for _, name in sorted(found.values()))


def _quoted_names(text: str) -> list[tuple[int, int, str]]:
    """Names in quotes, as (start of the name, end of the closing quote, name), in order.

    Quoted text runs from an opening quote to the first closing quote or line break; it names
    a file when it ends with a data extension right before that closing quote. Only text
    ending like that is looked at, from its first opening quote, so the scan is linear.
    """
    names: list[tuple[int, int, str]] = []
    resume = 0  # a closing quote that ended a name cannot open the next one
    for tail in _QUOTED_TAIL.finditer(text):
        dot, close = tail.start(), tail.end() - 1
        last_stop = _LAST_QUOTE_STOP.match(text, resume, dot)
        start = last_stop.end() - 1 if last_stop else resume
        opening = _OPEN_QUOTE.search(text, start, dot - 1) if dot - 1 > start else None
        if opening is None:  # nothing before ".csv" (or no opening quote): not a name
            resume = max(resume, close)
            continue
        name = text[opening.end() : close].strip()
        names.append((opening.end(), close + 1, name))
        resume = close + 1
    return names


def _without_markers(text: str) -> str:
    """``text`` with each bot-mention marker and the spaces around it tidied, in one pass.

    Before ``.``/``!``/``?`` the marker and the spaces or tabs before it go ("thanks @bot!"
    → "thanks!"); elsewhere the marker, the spaces or tabs around it and one ``,``/``:``
    right after it become one space ("@bot: sum" → " sum").
    """
    if _MARKER not in text:
        return text
    pieces = text.split(_MARKER)
    joined: list[str] = [pieces[0]]
    for piece in pieces[1:]:
        if piece[:1] in (".", "!", "?"):
            joined[-1] = joined[-1].rstrip(_SPACE_OR_TAB)
            joined[-1] += piece
        else:
            joined.append(piece)
    out: list[str] = [joined[0].rstrip(_SPACE_OR_TAB) if len(joined) > 1 else joined[0]]
    for index, piece in enumerate(joined[1:], start=1):
        if piece[:1] in (",", ":"):
            piece = piece[1:]
        piece = piece.lstrip(_SPACE_OR_TAB)
        if index < len(joined) - 1:
            piece = piece.rstrip(_SPACE_OR_TAB)
        out.append(piece)
    return " ".join(out)


def action_for(*, body: Mapping[str, Any]) -> ActionRequest | None:
    """The first action of a ``block_actions`` payload on a message, or None."""
    if body.get("type") != "block_actions":
        return None
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], Mapping):
        return None
    action = actions[0]
    container = _mapping(body.get("container"))
    message = _mapping(body.get("message"))
    user = _mapping(body.get("user"))
    channel = _mapping(body.get("channel")).get("id") or container.get("channel_id")
    message_ts = container.get("message_ts") or message.get("ts")
    # Org-wide installs send ``team: null``; the clicking user still names their workspace.
    team = _mapping(body.get("team")).get("id") or user.get("team_id")
    if not (action.get("action_id") and user.get("id") and channel and message_ts and team):
        return None
    selected = _mapping(action.get("selected_option"))
    return ActionRequest(
        action_id=str(action["action_id"]),
        value=str(action.get("value") or selected.get("value") or ""),
        user=str(user["id"]),
        team=str(team),
        channel=str(channel),
        message_ts=str(message_ts),
        thread_ts=str(message.get("thread_ts") or message_ts),
        response_url=_str_or_none(body.get("response_url")),
        trigger_id=_str_or_none(body.get("trigger_id")),
    )


@dataclass(frozen=True)
class ViewAction:
    """A button click in a view (the App Home or a modal): no message, but a trigger to open
    a modal with."""

    action_id: str
    value: str
    user: str
    trigger_id: str


def view_action_for(*, body: Mapping[str, Any]) -> ViewAction | None:
    """The first action of a ``block_actions`` payload from a view, or None."""
    if body.get("type") != "block_actions" or _mapping(body.get("container")).get("type") != "view":
        return None
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], Mapping):
        return None
    user = _mapping(body.get("user")).get("id")
    trigger = body.get("trigger_id")
    action_id = actions[0].get("action_id")
    if not (isinstance(user, str) and user and isinstance(trigger, str) and trigger and action_id):
        return None
    value = actions[0].get("value")
    return ViewAction(
        action_id=str(action_id),
        value=value if isinstance(value, str) else "",
        user=user,
        trigger_id=trigger,
    )


@dataclass(frozen=True)
class HomeOpened:
    """A person opened the app: its Home tab or its Messages tab (their DM ``channel``)."""

    user: str
    tab: str  # "home" or "messages"
    channel: str


def home_opened_for(*, body: Mapping[str, Any]) -> HomeOpened | None:
    """The ``app_home_opened`` event of ``body``, or None."""
    event = _mapping(body.get("event"))
    user, tab, channel = event.get("user"), event.get("tab"), event.get("channel")
    if event.get("type") != "app_home_opened" or not isinstance(user, str) or not user:
        return None
    return HomeOpened(
        user=user,
        tab=tab if isinstance(tab, str) else "messages",
        channel=channel if isinstance(channel, str) else "",
    )


def channel_settings_form_for(*, body: Mapping[str, Any]) -> ChannelSettingsForm | None:
    """The values of a submitted channel settings modal (``view_submission``), or None."""
    view = _mapping(body.get("view"))
    values = _mapping(_mapping(view.get("state")).get("values"))
    user = _mapping(body.get("user")).get("id")
    channel = _mapping(_mapping(values.get("channel")).get("channel")).get("selected_conversation")
    if body.get("type") != "view_submission" or not isinstance(user, str) or not user:
        return None
    if not isinstance(channel, str) or not channel:
        return None
    enabled = _mapping(
        _mapping(_mapping(values.get("enabled")).get("enabled")).get("selected_option")
    )
    model = _mapping(_mapping(values.get("model")).get("model")).get("value")
    daily = _mapping(_mapping(values.get("daily_usd")).get("daily_usd")).get("value")
    return ChannelSettingsForm(
        user=user,
        channel=channel,
        enabled=str(enabled.get("value") or "default"),
        model=model if isinstance(model, str) else "",
        daily_usd=daily if isinstance(daily, str) else "",
    )


def schedule_submission_for(*, body: Mapping[str, Any]) -> ScheduleSubmission | None:
    """A submitted schedule modal (``view_submission``): who, its private_metadata and the
    form as typed; None for anything else."""
    view = _mapping(body.get("view"))
    user = _mapping(body.get("user")).get("id")
    if body.get("type") != "view_submission" or view.get("callback_id") != SCHEDULE_MODAL_CALLBACK:
        return None
    if not isinstance(user, str) or not user:
        return None
    metadata = view.get("private_metadata")
    return ScheduleSubmission(
        user=user,
        metadata=metadata if isinstance(metadata, str) else "",
        form=form_of(_mapping(_mapping(view.get("state")).get("values"))),
    )


def shortcut_for(*, body: Mapping[str, Any]) -> ShortcutRequest | None:
    """The message shortcut in a ``message_action`` payload, or None."""
    if body.get("type") != "message_action":
        return None
    message = _mapping(body.get("message"))
    user = _mapping(body.get("user"))
    channel = _mapping(body.get("channel")).get("id")
    message_ts = body.get("message_ts") or message.get("ts")
    # Org-wide installs send ``team: null``; the user still names their workspace.
    team = _mapping(body.get("team")).get("id") or user.get("team_id")
    callback_id = body.get("callback_id")
    if not (callback_id and user.get("id") and channel and message_ts and team):
        return None
    text = message.get("text")
    return ShortcutRequest(
        callback_id=str(callback_id),
        user=str(user["id"]),
        team=str(team),
        channel=str(channel),
        message_ts=str(message_ts),
        thread_ts=str(message.get("thread_ts") or message_ts),
        text=text if isinstance(text, str) else "",
    )


# ---------------------------------------------------------------- helpers


def _person_message(body: Mapping[str, Any], bot_user_id: str) -> Mapping[str, Any] | None:
    """The event if it is a message or mention written by a person, with the fields we need."""
    event = body.get("event")
    if not isinstance(event, Mapping) or event.get("type") not in ("app_mention", "message"):
        return None
    if event.get("subtype") not in _PERSON_SUBTYPES or event.get("hidden"):
        return None
    if event.get("bot_id") or event.get("user") in (None, "", bot_user_id):
        return None
    if not all(isinstance(event.get(k), str) and event[k] for k in ("user", "channel", "ts")):
        return None
    if not _team_of(body, event):
        return None
    return event


def _team_of(body: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    """The workspace that installed the bot, the same for every event of a thread.

    ``authorizations[0].team_id`` first, as Bolt does for ``context.team_id``: in a Slack
    Connect channel the envelope's ``team_id`` can name another workspace, and ``event.team``
    names the sender's. Org-wide installs have no team there; the envelope's then serves.
    """
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list) and authorizations:
        team = _mapping(authorizations[0]).get("team_id")
        if isinstance(team, str) and team:
            return team
    team = body.get("team_id") or event.get("team")
    return team if isinstance(team, str) else ""


def _sender_team(event: Mapping[str, Any]) -> str | None:
    """The workspace of the person who sent the message, where Slack names it: the event's
    ``user_team`` (Slack Connect channels), else its files' ``user_team``. Not ``team``: a
    file_share message lacks it while its app_mention twin has it, and both must read the
    same."""
    team = event.get("user_team")
    if isinstance(team, str) and team:
        return team
    for raw in event.get("files") or ():
        if isinstance(raw, Mapping) and isinstance(raw.get("user_team"), str) and raw["user_team"]:
            return str(raw["user_team"])
    return None


def enterprise_of(body: Mapping[str, Any]) -> str | None:
    """The Enterprise Grid org of the installation this payload was delivered to, if any."""
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list) and authorizations:
        enterprise = _mapping(authorizations[0]).get("enterprise_id")
        if isinstance(enterprise, str) and enterprise:
            return enterprise
    enterprise = body.get("enterprise_id")
    return enterprise if isinstance(enterprise, str) and enterprise else None


def conversation_kind_for(body: Mapping[str, Any]) -> str:
    """``channel``, ``group``, ``im`` or ``mpim`` for the event's conversation."""
    event = body.get("event")
    return _channel_type_of(event) if isinstance(event, Mapping) else "channel"


def _channel_type_of(event: Mapping[str, Any]) -> str:
    # app_mention carries no channel_type; the id's first letter tells public, private, DM.
    channel_type = event.get("channel_type")
    if isinstance(channel_type, str) and channel_type:
        return channel_type
    return _CHANNEL_TYPE_BY_PREFIX.get(str(event.get("channel", ""))[:1], "channel")


def _thread_ts_of(event: Mapping[str, Any]) -> str:
    thread_ts = event.get("thread_ts")
    return thread_ts if isinstance(thread_ts, str) and thread_ts else str(event["ts"])


def _text_of(event: Mapping[str, Any]) -> str:
    text = event.get("text")
    return text if isinstance(text, str) else ""


def _mentions_bot(text: str, bot_user_id: str) -> bool:
    """Whether ``<@BOT>`` or ``<@BOT|label>`` appears: two plain searches, no pattern."""
    if not bot_user_id:
        return False
    if f"<@{bot_user_id}>" in text:
        return True
    labelled = text.find(f"<@{bot_user_id}|")
    return labelled != -1 and text.find(">", labelled) != -1


def _addressed_to_someone_else(text: str, bot_user_id: str) -> bool:
    # "<@ann> what do you think?" in an answered thread is meant for Ann, not the bot.
    match = _OPENS_WITH_USER.match(text)
    return match is not None and match.group(1) != bot_user_id


def _render_entity(target: str, label: str) -> str:
    if target.startswith("@"):
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        command = target[1:]
        if command.startswith("subteam^"):
            return label or f"@{command.removeprefix('subteam^')}"
        if command.startswith("date^"):
            return label
        return label or f"@{command}"
    url = _unescape(target)
    if url.startswith("mailto:"):
        return label or url.removeprefix("mailto:")
    if not label or label == url or label == url.split("://", 1)[-1]:
        return url
    return f"{label} ({url})"


def _slack_file(raw: Mapping[str, Any]) -> SlackFile:
    size = raw.get("size")
    created = raw.get("created")
    name = raw.get("name") or raw.get("title") or raw["id"]
    # A remote file's URLs point at some other site: keep none (it is refused by name later).
    remote = is_remote_file(raw)
    url = None if remote else _str_or_none(raw.get("url_private_download"))
    return SlackFile(
        id=str(raw["id"]),
        name=unicodedata.normalize("NFC", str(name)),
        size=size if isinstance(size, int) and size >= 0 else None,
        mimetype=str(raw.get("mimetype") or ""),
        filetype=str(raw.get("filetype") or ""),
        url_private_download=url,
        # A Slack Connect stub (or an app_mention's bare {"id"}) lacks the URL: files.info has it.
        needs_info=not remote
        and (
            raw.get("mode") == "file_access"
            or raw.get("file_access") == "check_file_info"
            or url is None
        ),
        user=_str_or_none(raw.get("user")),
        created=float(created) if isinstance(created, int | float) and created > 0 else None,
        is_remote=remote,
        user_team=_str_or_none(raw.get("user_team")),
    )


def _unescape(text: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group(0)], text)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
