"""What untrusted text becomes in each kind of Slack field (bot/slack/neutralize.py)."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable

import pytest

from bot import messages
from bot.slack.neutralize import (
    WORD_JOINER,
    blocks_for_slack,
    for_markdown,
    for_mrkdwn,
    for_plain,
    markdown_piece,
    trusted_date,
    trusted_mention,
)

WJ = WORD_JOINER
ACTIVE = re.compile(r"<[!@#]|<https?://[^>|]*\||@(?:channel|here|everyone)", re.IGNORECASE)
HOSTILE = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S0DATA|@data>",
    "<@U0ATTACK>",
    "<#C0SECRET>",
    "<https://evil.example|https://good.example>",
    "<http://evil.example|click>",
    "@channel",
    "@here",
    "@Everyone",
    "hi <!here|here> and @here!",
]


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("neutralise", [for_mrkdwn, for_markdown, for_plain])
def test_no_hostile_sequence_stays_active_in_any_field(
    neutralise: Callable[[str], str], hostile: str
) -> None:
    out = neutralise(f"before {hostile} after")
    if neutralise is for_plain:  # shown as typed: only the broadcast words change
        assert not re.search(r"@(?:channel|here|everyone)", out, re.IGNORECASE)
    else:
        assert not ACTIVE.search(out), out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel> now", "&lt;!channel&gt; now"),
        ("<@U0ATTACK>", "&lt;@U0ATTACK&gt;"),
        (
            "<https://evil.example|https://good.example>",
            "&lt;https://evil.example|https://good.example&gt;",
        ),
        ("ping @here and @channel", f"ping @{WJ}here and @{WJ}channel"),
        ("R&D <NA> a>b", "R&amp;D &lt;NA&gt; a&gt;b"),
        # Typed entities stay typed: they are not decoded into markup.
        ("&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;"),
        ("*bold* _it_ :warning:", "*bold* _it_ :warning:"),
    ],
)
def test_mrkdwn_escapes_as_slack_documents(text: str, expected: str) -> None:
    assert for_mrkdwn(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<!channel> now", f"<{WJ}!channel> now"),
        ("<@U0ATTACK> <#C1>", f"<{WJ}@U0ATTACK> <{WJ}#C1>"),
        ("<https://evil|good>", f"<{WJ}https://evil|good>"),
        ("<HTTP://evil|good>", f"<{WJ}HTTP://evil|good>"),
        ("<mailto:a@evil.example|boss>", f"<{WJ}mailto:a@evil.example|boss>"),
        ("@here @Channel @everyone", f"@{WJ}here @{WJ}Channel @{WJ}everyone"),
        # Pandas' missing value stays text instead of looking like an HTML tag.
        ("value is <NA>", f"value is <{WJ}NA>"),
        ("a & b < c", "a & b < c"),
        ("**bold** and `code`", "**bold** and `code`"),
        # Inside fenced code only the sequences Slack acts on change, so code copies cleanly.
        ("```\nif a<b: x = '<NA>'\n<!here>\n```", f"```\nif a<b: x = '<NA>'\n<{WJ}!here>\n```"),
    ],
)
def test_markdown_gets_a_word_joiner_where_a_sequence_would_open(text: str, expected: str) -> None:
    assert for_markdown(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<NA>", "<NA>"),
        ("<!channel> stays as typed", "<!channel> stays as typed"),
        ("a & b &amp; c", "a & b &amp; c"),
        ("@here", f"@{WJ}here"),
        ("name@channel.example", f"name@{WJ}channel.example"),
    ],
)
def test_plain_text_is_shown_as_typed_except_broadcast_words(text: str, expected: str) -> None:
    assert for_plain(text) == expected


@pytest.mark.parametrize("neutralise", [for_markdown, for_plain])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_only_word_joiners_are_added_where_nothing_is_escaped(
    neutralise: Callable[[str], str], hostile: str
) -> None:
    assert neutralise(hostile).replace(WJ, "") == hostile


@pytest.mark.parametrize(
    ("text", "mrkdwn", "markdown", "plain"),
    [
        (
            messages.stopped("en", "U0ASKER1"),
            "Stopped by <@U0ASKER1>.",
            "Stopped by <@U0ASKER1>.",
            "Stopped by @U0ASKER1.",
        ),
        (
            messages.retrying("ko", "W0ENT1"),
            "<@W0ENT1> 님의",
            "<@W0ENT1> 님의",
            "@W0ENT1 님의",
        ),
        (
            messages.picked_channel_files("en", [("<!channel>.csv", "U7", "1700000000.1")], []),
            "*&lt;!channel&gt;.csv*, shared by <@U7> on "
            "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>.",
            f"*<{WJ}!channel>.csv*, shared by <@U7> on "
            "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>.",
            "*<!channel>.csv*, shared by @U7 on 2023-11-14 22:13 UTC.",
        ),
    ],
)
def test_the_bots_own_mentions_and_dates_survive(
    text: str, mrkdwn: str, markdown: str, plain: str
) -> None:
    assert mrkdwn in for_mrkdwn(text)
    assert markdown in for_markdown(text)
    assert plain in for_plain(text)


def test_what_is_not_a_user_id_is_never_a_mention() -> None:
    assert trusted_mention("U1> <!channel") is None
    assert trusted_mention("someone") is None
    assert for_mrkdwn(messages.stopped("en", "<!channel>")).startswith(
        "Stopped by &lt;!channel&gt;"
    )
    assert trusted_date(1, "x|<!here>") == "x|<!here>"


@pytest.mark.parametrize(
    "forged",
    [
        "\ue000@U0ATTACK\ue001",  # no nonce
        "\ue0000123456789abcdef@U0ATTACK\ue001",  # a made-up nonce
        trusted_mention("U0ASKER1")[:-1] + "x\ue001",  # type: ignore[index]
        trusted_mention("U0ASKER1")[:-3],  # type: ignore[index]  # cut short by a limit
    ],
)
@pytest.mark.parametrize("neutralise", [for_mrkdwn, for_markdown, for_plain])
def test_markers_from_outside_or_cut_short_are_dropped(
    neutralise: Callable[[str], str], forged: str
) -> None:
    out = neutralise(f"a {forged} b")
    assert "<@" not in out and "\ue000" not in out and "\ue001" not in out
    nonce = trusted_mention("U1")[1:-3]  # type: ignore[index]
    assert nonce not in out


@pytest.mark.parametrize(
    ("text", "broken"),
    [
        ("[https://good.example](https://evil.example)", True),
        ("[good.example](https://evil.example/login)", True),
        ("[www.good.example](http://evil.example)", True),
        ("[**https://good.example**](https://evil.example)", True),
        ("![https://good.example](https://evil.example/x.png)", True),
        ('[https://good.example](https://good.example "a title")', True),  # not read: shown
        ("[https://good.example](<https://evil.example>)", True),
        ("[https://good.example](https://good.example)", False),
        ("[https://good.example/](https://good.example)", False),
        ("[good.example](https://good.example/)", False),
        ("[HTTPS://Good.Example](https://good.example)", False),
        ("[the report](https://evil.example)", False),  # says nothing about the address
        ("[1.5](https://evil.example)", False),
        ("[a](b) and [c]", False),
    ],
)
def test_a_label_that_looks_like_another_address_shows_the_real_target(
    text: str, broken: bool
) -> None:
    out = for_markdown(text)
    assert out.replace(WJ, "") == text
    assert (f"]{WJ}(" in out) is broken


def test_links_in_mrkdwn_and_rich_text() -> None:
    assert for_mrkdwn("[https://good.example](https://evil.example)") == (
        "[https://good.example](https://evil.example)"  # mrkdwn has no Markdown links
    )
    link = {"type": "link", "url": "https://evil.example", "text": "https://good.example"}
    honest = {"type": "link", "url": "https://good.example", "text": "good.example"}
    named = {"type": "link", "url": "https://evil.example", "text": "the report"}
    block = {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [link, honest, named]}],
    }
    (out,) = blocks_for_slack([block])
    shown = [e["text"] for e in out["elements"][0]["elements"]]
    assert shown == ["https://evil.example", "good.example", "the report"]


HOSTILE_ANSWER = (
    "Totals <!channel>: see [https://good.example](https://evil.example) or "
    "<https://evil.example|https://good.example>, ask <@U0ATTACK> in <#C0X> @here @everyone."
)


@pytest.mark.parametrize("cut", range(len(HOSTILE_ANSWER) + 1))
def test_a_stream_cut_anywhere_never_assembles_a_sequence(cut: int) -> None:
    # The first piece is sent before the rest of the text exists.
    first = markdown_piece(HOSTILE_ANSWER[:cut], start=0, end=cut)
    rest = markdown_piece(HOSTILE_ANSWER, start=cut, end=len(HOSTILE_ANSWER), more=False)
    sent = first + rest
    assert sent.replace(WJ, "") == HOSTILE_ANSWER
    assert not ACTIVE.search(sent), sent
    assert "](https://evil" not in sent


def test_blocks_are_neutralised_by_the_type_of_each_text() -> None:
    hostile = "<!channel> <NA> @here & co"
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": hostile}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": hostile}]},
        {"type": "header", "text": {"type": "plain_text", "text": hostile}},
        {"type": "markdown", "text": hostile},
        {"type": "table", "rows": [[{"type": "raw_text", "text": hostile}]]},
        {
            "type": "actions",
            "block_id": "retry_turn:<!channel>",
            "elements": [
                {
                    "type": "button",
                    "action_id": "retry_turn",
                    "text": {"type": "plain_text", "text": hostile},
                    "value": "<!channel>",
                }
            ],
        },
    ]
    before = copy.deepcopy(blocks)
    out = blocks_for_slack(blocks)
    assert blocks == before  # the caller's blocks are not changed
    mrkdwn = f"&lt;!channel&gt; &lt;NA&gt; @{WJ}here &amp; co"
    plain = f"<!channel> <NA> @{WJ}here & co"
    assert out[0]["text"]["text"] == mrkdwn
    assert out[1]["elements"][0]["text"] == mrkdwn
    assert out[2]["text"]["text"] == plain
    assert out[3]["text"] == f"<{WJ}!channel> <{WJ}NA> @{WJ}here & co"
    assert out[4]["rows"][0][0]["text"] == plain
    button = out[5]["elements"][0]
    assert button["text"]["text"] == plain
    # Ids and values are not shown to anyone and must come back unchanged.
    assert (out[5]["block_id"], button["value"]) == ("retry_turn:<!channel>", "<!channel>")


SHAPES = {
    "broadcasts": "<!here>@channel",
    "angles": "<",
    "opened links": "[a.co](",
    "closers": "](",
    "long labels": "[" + "a" * 200 + ".com",
    "long targets": "[a.co](https://" + "x" * 300,
    "markers": "\ue000" + "a",
    "fences": "```\n<NA>\n",
    "entities": "&<>",
}


def _best_times(function: Callable[[str], object], small: str, large: str) -> tuple[float, float]:
    """The least CPU time of 7 runs of each, interleaved.

    CPU time of this thread, not wall time: on a busy machine a long run is descheduled more
    often, which wall time would count as if the work had grown.
    """
    best = [float("inf"), float("inf")]
    for _ in range(7):
        for index, text in enumerate((small, large)):
            started = time.thread_time()
            function(text)
            best[index] = min(best[index], time.thread_time() - started)
    return best[0], best[1]


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize(
    "function",
    [
        for_mrkdwn,
        for_markdown,
        for_plain,
        lambda text: markdown_piece(text, start=0, end=len(text)),
    ],
    ids=["mrkdwn", "markdown", "plain", "stream"],
)
def test_time_grows_linearly_with_hostile_input(
    function: Callable[[str], object], shape: str
) -> None:
    small = (shape * (10_000 // len(shape) + 1))[:10_000]
    large = (shape * (40_000 // len(shape) + 1))[:40_000]
    function(large)  # completes at all
    small_s, large_s = _best_times(function, small, large)
    # Linear work takes about 4x, quadratic 16x. Below 1 ms the clock's noise dominates, and
    # any quadratic pass over 40,000 characters takes far longer than 6 x 1 ms.
    assert large_s < 6 * max(small_s, 0.001)
