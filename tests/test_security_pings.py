"""Nothing the bot posts can ping or deceive: a hostile run end to end, then every request the
bot made to Slack searched for a live broadcast, mention, channel link or disguised link."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.fakes.openai_model import ModelContext, ModelFailure, ModelResult
from tests.fakes.slack_payloads import as_app_mention
from tests.harness import Harness, harness
from tests.reliability_harness import buttons, click

HOSTILE = (
    "<!channel> <!here|here> <!everyone> <!subteam^S0DATA|@data> <@U0ATTACK> <#C0SECRET> "
    "<https://evil.example|https://good.example> @here @channel @everyone"
)
CSV = (
    f"region,{HOSTILE.replace(',', ' ')},amount\n"
    "<!here> Seoul,<@U0ATTACK>,100\n"
    "@channel Busan,<https://evil.example|https://good.example>,200\n"
).encode()
QUESTION = f"<@UBOT> totals for {HOSTILE}?"
ANSWER_TABLE = "| region | note |\n|---|---|\n| <NA> | <!channel> |\n| @here | <@U0ATTACK> |"
DISGUISED = "[https://good.example](https://evil.example)"

LIVE = re.compile(r"<[!@#]|<https?://[^>|]*\||@(?:channel|here|everyone)", re.IGNORECASE)
# The bot's own markup: mentions of the people who asked or shared, and date tokens.
OWN = re.compile(r"<@(?:U1|U7)>|<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9A-Za-z :-]+>")


def echoing_model(context: ModelContext) -> ModelResult:
    """Echoes the question, the file names and the files' real header lines."""
    files = [f for f in context.files if f.source == "user"]
    headers = [f.data.decode("utf-8", "replace").splitlines()[0] for f in files]
    text = (
        f"You asked: {context.question}\n\n"
        f"Files: {', '.join(f.name for f in files)}\n\n"
        f"Header: {' / '.join(headers)}\n\n"
        f"{ANSWER_TABLE}\n\nDetails at {DISGUISED}. {HOSTILE}"
    )
    failure = None
    if "fail" in context.question:
        failure = ModelFailure(code="server_error", message=f"worker crashed: {HOSTILE}")
    return ModelResult(text=text, code=f"print('{HOSTILE}')", failure=failure)


# Fields Slack shows as typed (plain_text, raw_text cells, rich text, titles, status lines):
# no markup is parsed there, so only the bare broadcast words could act.
PLAIN_TYPES = frozenset({"plain_text", "raw_text", "text"})
PLAIN_KEYS = frozenset({"status", "loading_messages", "title", "alt_txt", "filename"})


def _strings(value: Any, *, parsed: bool = True) -> Iterator[tuple[str, bool]]:
    """Every string in a request body, with whether Slack parses markup in it; JSON carried
    in a form field (blocks, chunks, files) is decoded first."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value) if value[:1] in ("[", "{") else None
        except ValueError:
            decoded = None
        if isinstance(decoded, list | dict):
            yield from _strings(decoded, parsed=parsed)
        else:
            yield value, parsed
    elif isinstance(value, dict):
        as_typed = value.get("type") in PLAIN_TYPES
        for key, inner in value.items():
            shown_as_typed = key in PLAIN_KEYS or (as_typed and key == "text")
            yield from _strings(inner, parsed=parsed and not shown_as_typed)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner, parsed=parsed)


BROADCAST_WORD = re.compile(r"@(?:channel|here|everyone)", re.IGNORECASE)


def live_sequences(h: Harness) -> list[tuple[str, str]]:
    """Every live sequence in what the bot sent: any in parsed fields, broadcast words in all."""
    found = []
    for call in h.slack.calls:
        for text, parsed in _strings(call.args):
            pattern = LIVE if parsed else BROADCAST_WORD
            for match in pattern.finditer(OWN.sub("", text)):
                found.append((call.method, text[max(0, match.start() - 40) : match.end() + 40]))
    return found


async def _ask(h: Harness, *, text: str, files: list[dict[str, Any]]) -> str:
    event = h.slack.post_user_message(channel="C1", user="U1", text=text, files=files)
    assert await h.send_event(as_app_mention(event)) == 200
    await h.settle()
    return str(event["ts"])


async def test_a_hostile_run_posts_nothing_that_pings_or_deceives(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.openai.model = echoing_model
        # A file shared earlier in the channel, picked when a question comes without one.
        shared = h.slack.add_file(name="<!everyone>.csv", content=CSV, user="U7")
        share = h.slack.post_user_message(channel="C1", user="U7", text="Q3", files=[shared])
        assert await h.send_event(share) == 200
        picked_ts = await _ask(h, text=QUESTION, files=[])

        # Files on the question itself, one of them not a data file: a notice names it.
        data = h.slack.add_file(name="@channel report.csv", content=CSV)
        odd = h.slack.add_file(
            name="<!here> <@U0ATTACK>.exe", content=b"MZ", mimetype="application/x-msdownload"
        )
        answered_ts = await _ask(h, text=QUESTION, files=[data, odd])
        answer = next(m for m in h.slack.thread("C1", answered_ts) if m.bot and buttons(m))
        await click(h, answer, action_id="show_code", user="U1")
        await h.settle()

        # The failure path, without a stream: the preview and the failure go as messages.
        h.slack.streaming_enabled = False
        failed = h.slack.add_file(name="@here.csv", content=CSV)
        failed_ts = await _ask(h, text=f"{QUESTION} fail", files=[failed])

        assert live_sequences(h) == []
        # Every way text leaves was taken: streams, messages, updates, uploads, a notice.
        methods = {c.method for c in h.slack.calls}
        assert {"chat.startStream", "chat.stopStream", "chat.postMessage", "chat.update"} <= methods

        # The run really carried the hostile text, shown as typed.
        picked = "\n".join(m.text for m in h.slack.thread("C1", picked_ts) if m.bot)
        assert "<!everyone>.csv" in picked or "&lt;!everyone&gt;.csv" in picked
        # The bot's own mention of who shared the file is still a real mention.
        notice = next(
            c.args["text"]
            for c in h.slack.calls_to("chat.postMessage")
            if "shared by" in c.args.get("text", "")
        )
        assert "shared by <@U7> on <!date^" in notice
        assert "&lt;!everyone&gt;.csv" in notice
        # Pandas' <NA> is visible in the table the user sees.
        cells = [
            cell["text"]
            for m in h.slack.thread("C1", answered_ts)
            for block in m.blocks
            if block.get("type") in ("table", "data_table")
            for row in block["rows"]
            for cell in row
        ]
        assert "<NA>" in cells and "<!channel>" in cells
        sent_texts = [c.args.get("text", "") for c in h.slack.calls if c.method.startswith("chat.")]
        assert any("&lt;NA&gt;" in text for text in sent_texts)  # the notification text
        # The disguised link shows its real target.
        seen = "\n".join(m.text for m in h.slack.thread("C1", answered_ts) if m.bot)
        assert "https://evil.example" in seen
        assert "worker crashed" in "\n".join(
            m.text for m in h.slack.thread("C1", failed_ts) if m.bot
        )
        notes = "\n".join(m.text for m in h.slack.thread("C1", answered_ts) if m.bot)
        assert ".exe" in notes
