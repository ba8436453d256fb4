"""Untrusted text made inert for each kind of Slack field, with the bot's own mentions kept.

Model output, file contents, file names and question text can carry Slack's control
sequences (``<!channel>``, ``<@U…>``, ``<#C…>``, ``<url|label>``) or the bare broadcast words
``@channel``/``@here``/``@everyone``. Each field kind has its own rules, so each gets its own
function, applied where requests leave (the gateway and the answer stream):

- ``for_mrkdwn``: Slack's documented escaping (``&amp;``, ``&lt;``, ``&gt;``).
- ``for_markdown``: markdown blocks and streamed ``markdown_text`` document no escaping for
  ``<``, so a word joiner (U+2060, invisible) goes right after a ``<`` that would open a
  control sequence, after a ``<`` that would open an HTML-looking tag outside code (so
  pandas' ``<NA>`` stays visible), and inside a link whose label looks like an address other
  than its target, so the target shows as text.
- ``for_plain``: plain_text and raw_text are shown as typed, so no entities at all.

Every field also gets the word joiner after the ``@`` of a broadcast word.

Markup the bot makes itself (a mention of a user id Slack gave it, a date token) is built by
`trusted_mention` / `trusted_date` as a marker: private-use characters around a per-process
random nonce and a strict grammar. The functions here turn genuine markers back into markup
after escaping; marker characters in any other text are dropped, so text from outside can
never forge one.

Everything is linear in the length of the text: insertions are zero-width matches of fixed
look-arounds, a link label is at most a few hundred characters and matched atomically, and a
stream piece looks back at most _LABEL_MAX characters.
"""

from __future__ import annotations

import operator
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from typing import Any
from urllib.parse import unquote

__all__ = [
    "WORD_JOINER",
    "blocks_for_slack",
    "for_markdown",
    "for_mrkdwn",
    "for_plain",
    "markdown_piece",
    "trusted_date",
    "trusted_mention",
]

WORD_JOINER = "\u2060"
_OPEN, _CLOSE = "\ue000", "\ue001"
_NONCE = secrets.token_hex(8)
_DATE_FORMAT = "{date_short_pretty} {time}"
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,20}")
_FALLBACK = re.compile(r"[0-9A-Za-z :-]{1,40}")
_TRUSTED = re.compile(
    re.escape(_OPEN + _NONCE)
    + r"(?:@(?P<user>[UW][A-Z0-9]{1,20})|!date\^(?P<seconds>\d{1,12})\^(?P<fallback>[0-9A-Za-z :-]{1,40}))"
    + re.escape(_CLOSE)
)
# A marker cut short (by a length limit) or made up elsewhere: dropped with its nonce part.
_STRAY = re.compile(r"\ue000[0-9a-f]{0,16}|\ue001")
# The places for a word joiner are zero-width matches, so a literal replacement inserts it
# without a Python call per match.
_BROADCAST = re.compile(r"(?<=@)(?=channel|here|everyone)", re.IGNORECASE)
# Markdown: after a "<" that would open a control sequence (Slack's own, or an autolink).
_OPENER = re.compile(r"(?<=<)(?=[!@#]|http|mailto:)|(?<=@)(?=channel|here|everyone)", re.IGNORECASE)
# Outside code, any "<" before a letter or "/" too: an HTML-looking "<NA>" must stay text.
_OPENER_PROSE = re.compile(r"(?<=<)(?=[!@#a-z/])|(?<=@)(?=channel|here|everyone)", re.IGNORECASE)
# A deceptive link: a label that reads as an address (scheme, "www." or a domain name)
# followed by "(" and anything but that address. The label is atomic, so backtracking cannot
# move its scheme into the compared part; a target that is not simply the label's address
# (another one, a title, cut off) counts as different. Group 1 is the label with its "]".
_SCHEME_PART = r"(?:[a-z][a-z0-9+.-]{0,30}://|mailto:)?(?:www\.)?"
_DOMAIN = r"[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.[a-z]{2,24}"
_LABEL_END = r"[*_~`]{0,3}[ \t]{0,3}\]"
_DECEPTIVE = re.compile(
    rf"((?>\[[ \t]{{0,3}}[*_~`]{{0,3}}"
    rf"(?=[a-z][a-z0-9+.-]{{0,30}}://|mailto:|www\.|{_DOMAIN}(?:[/:?#]|{_LABEL_END}))"
    rf"{_SCHEME_PART}(?P<bare>[^\[\]\s]{{1,300}}?)/?{_LABEL_END}))"
    rf"(?=\()(?!\([ \t]*{_SCHEME_PART}(?P=bare)/?[ \t]*\))",
    re.IGNORECASE,
)
# What a piece may end with when more text may follow it: the start of a sequence above.
_PARTIALS = frozenset(
    word[:n]
    for word in ("<http", "<mailto:", "@channel", "@here", "@everyone")
    for n in range(1, len(word))
)
_PARTIAL_MAX = max(map(len, _PARTIALS))
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_LABEL_MAX = 400  # more than the longest label _DECEPTIVE takes, with brackets and spaces
_URLISH = re.compile(
    rf"[a-z][a-z0-9+.-]{{0,30}}://|mailto:|www\.|{_DOMAIN}(?:[/:?#]|$)", re.IGNORECASE
)
_SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]{0,30}://|mailto:)?(?:www\.)?", re.IGNORECASE)


# ------------------------------------------------------------------ the bot's own markup


def trusted_mention(user_id: str) -> str | None:
    """A marker for a mention of ``user_id`` (an id Slack gave the bot); None if it is not one."""
    if not _USER_ID.fullmatch(user_id):
        return None
    return f"{_OPEN}{_NONCE}@{user_id}{_CLOSE}"


def trusted_date(seconds: int, fallback: str) -> str:
    """A marker for Slack's date token (each reader's time zone); ``fallback`` alone if odd."""
    if seconds < 0 or not _FALLBACK.fullmatch(fallback):
        return fallback
    return f"{_OPEN}{_NONCE}!date^{seconds}^{fallback}{_CLOSE}"


def _pieces(text: str) -> Iterator[tuple[str, re.Match[str] | None]]:
    """``text`` as untrusted stretches and genuine markers, in order."""
    done = 0
    for match in _TRUSTED.finditer(text):
        if match.start() > done:
            yield text[done : match.start()], None
        yield "", match
        done = match.end()
    if done < len(text):
        yield text[done:], None


def _markup(marker: re.Match[str]) -> str:
    if marker["user"]:
        return f"<@{marker['user']}>"
    return f"<!date^{marker['seconds']}^{_DATE_FORMAT}|{marker['fallback']}>"


def _plain_markup(marker: re.Match[str]) -> str:
    return f"@{marker['user']}" if marker["user"] else str(marker["fallback"])


# ------------------------------------------------------------------ mrkdwn and plain text


def _escaped(text: str) -> str:
    text = _STRAY.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(WORD_JOINER, text)


def for_mrkdwn(text: str) -> str:
    """``text`` for a mrkdwn field: escaped as Slack documents, the bot's own markup kept."""
    return "".join(_markup(marker) if marker else _escaped(part) for part, marker in _pieces(text))


def for_plain(text: str) -> str:
    """``text`` for plain_text / raw_text (shown as typed): only broadcast words changed.

    The bot's own mentions become "@U…" and date tokens their fallback, since these fields
    render no markup.
    """
    return "".join(
        _plain_markup(marker) if marker else _BROADCAST.sub(WORD_JOINER, _STRAY.sub("", part))
        for part, marker in _pieces(text)
    )


# ------------------------------------------------------------------ markdown


def for_markdown(text: str) -> str:
    """``text`` for a markdown block or a whole ``markdown_text``, the bot's own markup kept."""
    out: list[str] = []
    for part, marker in _pieces(text):
        if marker:
            out.append(_markup(marker))
            continue
        for run, code in _code_runs(part):
            opener = _OPENER if code else _OPENER_PROSE
            out.append(_markdown_window(run, start=0, end=len(run), opener=opener, more=False))
    return "".join(out)


def markdown_piece(text: str, *, start: int, end: int, more: bool = True) -> str:
    """``text[start:end]`` for a stream that already carries ``text[:start]``.

    Link labels are looked up in the text before ``start``. With ``more`` (text may still be
    appended after ``end``) a piece ending in the first characters of a sequence gets the
    word joiner at once, since the rest would arrive in the next piece. No bot markup here:
    streams carry model text.
    """
    return _markdown_window(text, start=start, end=end, opener=_OPENER, more=more)


def _code_runs(text: str) -> Iterator[tuple[str, bool]]:
    """``text`` cut into runs of lines that are (True) or are not (False) fenced code."""
    fence = ""
    start = offset = 0
    for line in text.splitlines(keepends=True):
        marks = _FENCE.match(line)
        if not fence and marks:
            if offset > start:
                yield text[start:offset], False
            fence, start = marks.group(1), offset
        elif fence and marks and _closes(fence, marks.group(1), line[marks.end() :]):
            yield text[start : offset + len(line)], True
            fence, start = "", offset + len(line)
        offset += len(line)
    if start < len(text):
        yield text[start:], bool(fence)


def _closes(fence: str, marks: str, rest: str) -> bool:
    return marks[0] == fence[0] and len(marks) >= len(fence) and not rest.strip()


def _markdown_window(
    text: str, *, start: int, end: int, opener: re.Pattern[str], more: bool
) -> str:
    # Stray marker characters go first: removed later, they could join "<" and "!".
    context = text[max(0, start - _LABEL_MAX) : start]
    scan = context + _STRAY.sub("", text[start:end])
    piece = _break_links(scan, offset=len(context))
    piece = opener.sub(WORD_JOINER, piece)
    if more or end < len(text):
        piece = _guarded_tail(piece, scan)
    return piece


def _break_links(scan: str, *, offset: int) -> str:
    """``scan[offset:]`` with a word joiner after the label of every deceptive link.

    Splitting and joining run in C, so a text full of links costs no Python call per link.
    """
    parts = _DECEPTIVE.split(scan)  # text, label, address, text, label, address, …, text
    del parts[2::3]
    parts[1::2] = map(operator.add, parts[1::2], repeat(WORD_JOINER))
    remaining = offset
    for index, part in enumerate(parts):
        size = len(part) - index % 2  # a label's joiner is not in ``scan``
        if remaining < size:
            return part[remaining:] + "".join(parts[index + 1 :])
        remaining -= size
    return ""


def _guarded_tail(piece: str, scan: str) -> str:
    """``piece`` with a word joiner where the next piece could complete a sequence: after a
    final "<", "@ever", … or a final "]" of a label that looks like an address."""
    for size in range(min(_PARTIAL_MAX, len(piece)), 0, -1):
        if piece[-size:].lower() in _PARTIALS:
            cut = len(piece) - size + 1
            return piece[:cut] + WORD_JOINER + piece[cut:]
    if piece.endswith("]") and _looks_like_url(_label(scan, len(scan) - 1)):
        return piece + WORD_JOINER
    return piece


def _label(text: str, close: int) -> str:
    """The link label ending at ``close`` (a "]"), looked for at most _LABEL_MAX back."""
    low = max(0, close - _LABEL_MAX)
    low = max(low, text.rfind("]", low, close) + 1)
    opening = text.rfind("[", low, close)
    return text[opening + 1 : close] if opening >= 0 else ""


def _looks_like_url(label: str) -> bool:
    shown = label.strip().strip("*_~`")
    return bool(shown) and not any(ch.isspace() for ch in shown) and bool(_URLISH.match(shown))


def _honest_label(label: str, url: str) -> str:
    """A rich text link's label, or its URL when the label shows another address."""
    if _looks_like_url(label) and _comparable(label) != _comparable(url):
        return url
    return label


def _comparable(address: str) -> str:
    bare = _SCHEME.sub("", unquote(address).strip().lower(), count=1)
    return bare.rstrip("/")


# ------------------------------------------------------------------ Block Kit


def blocks_for_slack(blocks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``blocks`` with every text neutralised by the rules of its own type.

    mrkdwn text objects → `for_mrkdwn`; plain_text, raw_text and raw_number (table cells)
    and rich text ``text`` elements → `for_plain`; markdown blocks → `for_markdown`; a data
    table's caption and every string of a chart (title, labels, names, categories) →
    `for_plain`. Ids, values and URLs are left alone.
    """
    return [_walk(_plain_fields(dict(block))) for block in blocks]


def _plain_fields(block: dict[str, Any]) -> dict[str, Any]:
    """Plain-text fields that are not called ``text``: a chart's strings, a table's caption."""
    kind = block.get("type")
    if kind == "data_visualization":
        return {
            key: value if key in ("type", "block_id") else _plain_strings(value)
            for key, value in block.items()
        }
    if kind == "data_table" and isinstance(block.get("caption"), str):
        return {**block, "caption": for_plain(block["caption"])}
    return block


def _plain_strings(value: Any) -> Any:
    if isinstance(value, str):
        return for_plain(value)
    if isinstance(value, Mapping):
        return {k: v if k == "type" else _plain_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_strings(item) for item in value]
    return value


def _walk(node: dict[str, Any]) -> dict[str, Any]:
    kind = node.get("type")
    if kind == "link" and isinstance(node.get("url"), str) and isinstance(node.get("text"), str):
        node = {**node, "text": _honest_label(node["text"], node["url"])}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "text" and isinstance(value, str):
            out[key] = _text_for(kind, value)
        elif isinstance(value, Mapping):
            out[key] = _walk(dict(value))
        elif isinstance(value, list):
            out[key] = [_walk_item(item) for item in value]
        else:
            out[key] = value
    return out


def _walk_item(item: Any) -> Any:
    if isinstance(item, Mapping):
        return _walk(dict(item))
    if isinstance(item, list):
        return [_walk_item(inner) for inner in item]
    return item


def _text_for(kind: Any, text: str) -> str:
    if kind == "mrkdwn":
        return for_mrkdwn(text)
    if kind == "markdown":
        return for_markdown(text)
    # plain_text, raw_text, rich text "text" and "link" elements, and anything unknown:
    # shown as typed at worst, so the plain rules never leave a sequence Slack would act on.
    return for_plain(text)
