"""The answer as Slack messages: limits kept, nothing lost, tables and code readable."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest
from slack_sdk.models.blocks import Block, MarkdownBlock, TableBlock
from slack_sdk.models.blocks.basic_components import RawTextObject, TableBlockColumnSettings

from bot.slack.render import (
    SlackMessage,
    code_blocks_for,
    code_messages_for,
    plain_text_for,
    slack_messages_for,
)

LIMIT = 11_000


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def block_chars(block: dict[str, Any]) -> int:
    if block["type"] == "markdown":
        return utf16_len(block["text"])
    return sum(utf16_len(cell["text"]) for row in block["rows"] for cell in row)


def check_message(message: SlackMessage, *, limit: int = LIMIT) -> None:
    """Every Slack limit on one message, and the block shapes as slack_sdk models them."""
    assert 0 < len(message.text) <= 3000
    assert 0 < len(message.blocks) <= 50
    assert sum(block_chars(b) for b in message.blocks) <= limit
    assert sum(b["type"] == "table" for b in message.blocks) <= 1
    for block in message.blocks:
        assert Block.parse(block).to_dict() == block  # to_dict runs the SDK's validators
        if block["type"] == "markdown":
            MarkdownBlock(text=block["text"]).validate_json()
        else:
            assert block["type"] == "table"
            assert len(block["rows"]) <= 100
            assert all(len(row) == len(block["rows"][0]) <= 20 for row in block["rows"])
            for row in block["rows"]:
                for cell in row:
                    RawTextObject(**{"text": cell["text"]}).validate_json()
            TableBlock(
                rows=block["rows"],
                column_settings=[TableBlockColumnSettings(**s) for s in block["column_settings"]],
            ).validate_json()


def markdown_texts(messages: list[SlackMessage]) -> list[str]:
    return [b["text"] for m in messages for b in m.blocks if b["type"] == "markdown"]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def md_table(header: list[str], rows: list[list[str]], markers: list[str] | None = None) -> str:
    markers = markers or ["---"] * len(header)
    lines = [header, markers, *rows]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)


def long_answer(kind: str) -> str:
    """About 30,000 characters of the shapes a model writes."""
    sentence = "The revenue in Seoul grew by 12.5% while 부산 stayed flat at 3.2 billion won. "
    parts: list[str] = []
    index = 0
    while sum(len(p) for p in parts) < 30_000:
        index += 1
        if kind == "paragraphs":
            parts.append(f"Paragraph {index}. " + sentence * (index % 7 + 1))
        elif kind == "list":
            parts.append(f"- item {index}: " + sentence.strip())
        else:
            parts.append(f"## Section {index}")
            parts.append(sentence * 5)
            parts.append(f"1. first point {index}\n2. second point {index}")
            parts.append(f"```python\nprint({index})\n```")
            parts.append(f"> quoted remark {index}")
    return ("\n" if kind == "list" else "\n\n").join(parts)


def test_short_answer_is_one_message_with_one_markdown_block() -> None:
    answer = "**Total sales** were 1,234 units.\n\n- Seoul: 800\n- Busan: 434"
    [message] = slack_messages_for(answer)
    check_message(message)
    assert message.blocks == ({"type": "markdown", "text": answer},)
    assert message.text == "Total sales were 1,234 units.\n\n• Seoul: 800\n• Busan: 434"


@pytest.mark.parametrize("answer", ["", "   \n\n  "])
def test_blank_answer_gives_no_message(answer: str) -> None:
    assert slack_messages_for(answer) == []


@pytest.mark.parametrize("kind", ["paragraphs", "list", "mixed"])
def test_long_answer_is_split_under_limits_losing_nothing(kind: str) -> None:
    answer = long_answer(kind)
    messages = slack_messages_for(answer)
    assert 3 <= len(messages) <= len(answer) // LIMIT + 2
    for message in messages:
        check_message(message)
    assert squash("".join(markdown_texts(messages))) == squash(answer)


def test_long_list_is_cut_between_items() -> None:
    messages = slack_messages_for(long_answer("list"))
    assert len(messages) > 1
    for text in markdown_texts(messages):
        assert text.startswith("- item ")
        assert text.endswith("billion won.")


def test_heading_moves_with_the_block_after_it() -> None:
    answer = "a" * 6000 + "\n\n## Next part\n\n" + "b " * 3000
    first, second = slack_messages_for(answer)
    assert first.blocks[0]["text"] == "a" * 6000
    assert second.blocks[0]["text"].startswith("## Next part\n\nb b")


def test_heading_moves_with_a_long_paragraph_after_it() -> None:
    answer = "a" * 10_500 + "\n\n## Details\n\n" + "Long sentence here. " * 1000
    messages = slack_messages_for(answer)
    assert markdown_texts(messages)[0] == "a" * 10_500
    assert markdown_texts(messages)[1].startswith("## Details\n\nLong sentence here.")
    for message in messages:
        check_message(message)


def test_single_huge_paragraph_is_cut_at_sentence_ends() -> None:
    sentence = "매출은 전년 대비 12% 증가했습니다. Revenue rose in every region! "
    answer = (sentence * 400).strip()
    assert len(answer) > 20_000
    messages = slack_messages_for(answer)
    assert len(messages) == 2
    texts = markdown_texts(messages)
    for message in messages:
        check_message(message)
    assert all(text.endswith(("습니다.", "region!")) for text in texts)
    assert " ".join(texts) == answer


def test_paragraph_without_sentences_is_cut_between_words() -> None:
    answer = " ".join(f"word{i}" for i in range(4000))
    messages = slack_messages_for(answer, max_markdown_chars=5000)
    texts = markdown_texts(messages)
    assert len(texts) == len(answer) // 5000 + 1
    assert " ".join(texts).split() == answer.split()


def test_long_paragraph_fills_the_current_message_first() -> None:
    answer = "Intro line.\n\n" + "Filler sentence here. " * 900
    messages = slack_messages_for(answer)
    assert len(messages) == 2
    assert block_chars(messages[0].blocks[0]) > 10_000


def test_astral_emoji_count_double_toward_the_limit() -> None:
    answer = "📈 " * 8000
    messages = slack_messages_for(answer)
    for message in messages:
        check_message(message)
    assert len(messages) == 3
    assert squash("".join(markdown_texts(messages))) == squash(answer)


def test_long_code_fence_is_split_and_fenced_again() -> None:
    code_lines = [f"df_{i} = frame.groupby('지역')['매출'].sum()  # step {i}" for i in range(800)]
    answer = "Here is the code:\n\n```python\n" + "\n".join(code_lines) + "\n```\n\nDone."
    messages = slack_messages_for(answer)
    assert len(messages) >= 3
    for message in messages:
        check_message(message)
    fences = re.findall(r"```python\n(.*?)\n```", "\n\n".join(markdown_texts(messages)), re.S)
    assert len(fences) == len(messages)
    assert "\n".join(fences).split("\n") == code_lines
    assert markdown_texts(messages)[0].startswith("Here is the code:\n\n```python\n")
    assert markdown_texts(messages)[-1].endswith("```\n\nDone.")


def test_code_line_longer_than_a_message_is_cut_but_kept() -> None:
    line = "x = '" + "0123456789" * 1500 + "'"
    messages = slack_messages_for(f"```\n{line}\n```")
    for message in messages:
        check_message(message)
    fences = [re.fullmatch(r"```\n(.*)\n```", t, re.S) for t in markdown_texts(messages)]
    assert "".join(f.group(1) for f in fences if f) == line


def test_each_table_becomes_a_table_block_one_per_message() -> None:
    answer = "\n\n".join(
        [
            "Sales by region:",
            md_table(["Region", "Sales"], [["Seoul", "100"], ["Busan", "50"]]),
            "And by month:",
            md_table(["Month", "Sales"], [["Jan", "70"], ["Feb", "80"]]),
            "That is all.",
        ]
    )
    first, second = slack_messages_for(answer)
    check_message(first)
    check_message(second)
    assert [b["type"] for b in first.blocks] == ["markdown", "table", "markdown"]
    assert first.blocks[0]["text"] == "Sales by region:"
    assert first.blocks[1]["rows"][1] == [
        {"type": "raw_text", "text": "Seoul"},
        {"type": "raw_text", "text": "100"},
    ]
    assert first.blocks[2]["text"] == "And by month:"
    assert [b["type"] for b in second.blocks] == ["table", "markdown"]
    assert second.blocks[0]["rows"][2][0]["text"] == "Feb"
    assert "Feb | 80" in second.text


@pytest.mark.parametrize(
    ("marker", "align"),
    [("---", "left"), (":---", "left"), (":---:", "center"), ("---:", "right")],
)
def test_table_alignment_follows_the_markdown_markers(marker: str, align: str) -> None:
    [message] = slack_messages_for(md_table(["Name", "Value"], [["a", "1"]], ["---", marker]))
    check_message(message)
    settings = message.blocks[0]["column_settings"]
    assert [s["align"] for s in settings] == ["left", align]


def test_table_cells_are_plain_text_and_never_empty() -> None:
    table = md_table(
        ["**Region**", "Link", "Note"],
        [["`Seoul`", "[report](https://example.com/r)", ""], ["_Busan_", "x \\| y", "ok"]],
    )
    [message] = slack_messages_for(table)
    check_message(message)
    rows = [[cell["text"] for cell in row] for row in message.blocks[0]["rows"]]
    assert rows == [
        ["Region", "Link", "Note"],
        ["Seoul", "report (https://example.com/r)", " "],
        ["Busan", "x | y", "ok"],
    ]


def test_tag_like_text_such_as_pandas_na_stays_visible() -> None:
    table = md_table(["id", "score"], [["1", "<NA>"], ["2", "<b>x</b> <br> y"]])
    [message] = slack_messages_for(table)
    rows = [[cell["text"] for cell in row] for row in message.blocks[0]["rows"]]
    assert rows[1:] == [["1", "<NA>"], ["2", "<b>x</b>   y"]]
    assert "<NA>" in message.text
    assert "<NA>" in plain_text_for("Missing values show as <NA>.")


def test_korean_table_keeps_its_text() -> None:
    table = md_table(["지역", "매출액", "비고"], [["서울특별시", "1,234", "전년 대비 증가"]])
    [message] = slack_messages_for(table)
    check_message(message)
    assert message.blocks[0]["rows"][1][2]["text"] == "전년 대비 증가"
    assert message.text == "지역 | 매출액 | 비고\n서울특별시 | 1,234 | 전년 대비 증가"


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fenced_lines(messages: list[SlackMessage]) -> list[str]:
    lines: list[str] = []
    for text in markdown_texts(messages):
        for body in re.findall(r"```\n(.*?)\n```", text, re.S):
            lines.extend(body.split("\n"))
    return lines


@pytest.mark.parametrize(
    ("columns", "rows"),
    [(3, 150), (25, 5)],
    ids=["150 rows", "25 columns"],
)
def test_table_too_big_for_a_table_block_becomes_aligned_code(columns: int, rows: int) -> None:
    header = ["지역"] + [f"col{c}" for c in range(1, columns)]
    body = [[f"서울{r}"] + [str(r * c) for c in range(1, columns)] for r in range(rows)]
    markers = [":--"] + ["--:"] * (columns - 1)
    messages = slack_messages_for("Full data:\n\n" + md_table(header, body, markers))
    for message in messages:
        check_message(message)
        assert all(b["type"] == "markdown" for b in message.blocks)
    lines = fenced_lines(messages)
    data = [line for line in lines if line.startswith("| 서울")]
    assert [line.split("|")[1].strip() for line in data] == [f"서울{r}" for r in range(rows)]
    assert len({display_width(line) for line in lines}) == 1  # wide Korean characters align
    assert data[-1].endswith(f" {(rows - 1) * (columns - 1)} |")  # right-aligned numbers


def test_very_long_table_repeats_its_header_in_every_piece() -> None:
    body = [[f"row {r}", "매출 " * 20] for r in range(99)]
    messages = slack_messages_for(md_table(["Name", "Long text"], body), max_markdown_chars=4000)
    assert len(messages) > 1
    for message in messages:
        check_message(message, limit=4000)
        [block] = message.blocks
        assert block["text"].startswith("```\n| Name")
    assert sum(line.startswith("| row ") for line in fenced_lines(messages)) == 99


def test_table_and_prose_share_one_block_budget() -> None:
    table = md_table(["Name", "Comment"], [[f"n{r}", "x" * 90] for r in range(60)])
    messages = slack_messages_for("p" * 6000 + "\n\n" + table)
    assert len(messages) == 2
    for message in messages:
        check_message(message)
    assert messages[1].blocks[0]["type"] == "table"


def test_one_block_per_message_when_asked() -> None:
    answer = "Intro.\n\n" + md_table(["a", "b"], [["1", "2"]]) + "\n\nOutro."
    messages = slack_messages_for(answer, max_blocks=1)
    assert [[b["type"] for b in m.blocks] for m in messages] == [
        ["markdown"],
        ["table"],
        ["markdown"],
    ]


def test_link_reference_definitions_are_kept() -> None:
    answer = "See [the docs][1].\n\n[1]: https://example.com/docs"
    [message] = slack_messages_for(answer)
    assert squash(message.blocks[0]["text"]) == squash(answer)


@pytest.mark.parametrize(
    ("limits", "message"),
    [({"max_markdown_chars": 12_001}, "max_markdown_chars"), ({"max_blocks": 51}, "max_blocks")],
)
def test_limits_beyond_slack_are_refused(limits: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        slack_messages_for("hi", **limits)


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("# Title\n\nSome **bold** and _italic_ text.", "Title\n\nSome bold and italic text."),
        ("Use `df.head()` and [pandas](https://pandas.pydata.org).", "Use df.head() and pandas."),
        ("1. one\n2. two\n   - nested", "1. one\n2. two\n  • nested"),
        ("> quoted ~~old~~ text", "quoted old text"),
        ("![chart](https://x/y.png)", "chart"),
        ("```python\nprint('hi')\n```", "print('hi')"),
        ("| a | b |\n|---|---|\n| **1** | 2<br>3 |", "a | b\n1 | 2 3"),
    ],
)
def test_plain_text_strips_markdown(markdown: str, expected: str) -> None:
    assert plain_text_for(markdown) == expected


def test_plain_text_is_truncated_with_an_ellipsis() -> None:
    text = plain_text_for("word " * 2000, limit=100)
    assert len(text) <= 100
    assert text.endswith("word…")


def test_message_text_is_readable_and_bounded() -> None:
    messages = slack_messages_for(long_answer("mixed"))
    assert all(len(m.text) <= 3000 for m in messages)
    assert messages[0].text.startswith("Section 1\n\nThe revenue in Seoul")
    assert "```" not in messages[0].text and "##" not in messages[0].text


def test_show_code_fits_one_block_when_short() -> None:
    assert code_blocks_for("import pandas as pd\ndf = pd.read_csv('a.csv')") == [
        {
            "type": "markdown",
            "text": "```python\nimport pandas as pd\ndf = pd.read_csv('a.csv')\n```",
        }
    ]


def test_show_code_is_split_into_messages_under_the_limit() -> None:
    code = "\n".join(f"print('줄 {i}')  # ```" for i in range(3000))
    messages = code_messages_for(code)
    assert len(messages) > 1
    bodies: list[str] = []
    for message in messages:
        check_message(message)
        [block] = message.blocks
        match = re.fullmatch(r"````python\n(.*)\n````", block["text"], re.S)
        assert match is not None  # a fence longer than the ``` inside the code
        bodies.append(match.group(1))
    assert "\n".join(bodies) == code
    assert messages[0].text.startswith("print('줄 0')")


def test_show_code_of_nothing_is_nothing() -> None:
    assert code_blocks_for("  \n") == []
