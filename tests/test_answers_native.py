"""Answers people can use: Korean charts that render, Slack's own charts and tables, full
results as files. End to end over the fake Slack and fake OpenAI, plus the pure checks."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.engines.instructions import asks_for_excel
from bot.slack.neutralize import WORD_JOINER
from bot.slack.render import chart_block_for, chart_problem, slack_messages_for
from tests.fakes.openai_model import (
    ModelArtifact,
    ModelContext,
    ModelResult,
    bar_chart_png,
    default_model,
)
from tests.fakes.slack_payloads import as_app_mention
from tests.fakes.slack_server import FakeSlack, SeenMessage
from tests.harness import Harness, harness

CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"
PIE = {
    "type": "pie",
    "title": "지역별 매출 비중",
    "segments": [
        {"label": "서울", "value": 100},
        {"label": "부산", "value": 200},
        {"label": "대구", "value": 300.5},
    ],
}


def with_files(*extra: ModelArtifact, text: str = "") -> Any:
    """A model that answers as usual, then "saves" ``extra`` files (cited in the text)."""

    def model(context: ModelContext) -> ModelResult:
        result = default_model(context)
        links = "".join(f"\n[{a.path.rsplit('/', 1)[-1]}](sandbox:{a.path})" for a in extra)
        return replace(
            result, text=result.text + text + links, artifacts=[*result.artifacts, *extra]
        )

    return model


def pie_chart(description: object) -> tuple[ModelArtifact, ModelArtifact]:
    png = ModelArtifact(path="/mnt/data/share.png", data=bar_chart_png([]))
    raw = json.dumps(description, ensure_ascii=False).encode()
    return png, ModelArtifact(path="/mnt/data/share.chart.json", data=raw)


async def ask(h: Harness, text: str) -> str:
    file = h.slack.add_file(name="sales.csv", content=CSV)
    event = h.slack.post_user_message(channel="C1", user="U1", text=text, files=[file])
    assert await h.send_event(as_app_mention(event)) == 200
    await h.settle(wait_s=60)
    return str(event["ts"])


def bot_messages(slack: FakeSlack, ts: str) -> list[SeenMessage]:
    return [m for m in slack.thread("C1", ts) if m.bot]


def blocks_of(slack: FakeSlack, ts: str, kind: str) -> list[dict[str, Any]]:
    return [b for m in bot_messages(slack, ts) for b in m.blocks if b.get("type") == kind]


def posted_files(slack: FakeSlack, ts: str) -> set[str]:
    return {f.name for m in bot_messages(slack, ts) for f in m.files}


def chart_requests(slack: FakeSlack) -> list[Any]:
    """Calls that asked Slack to show a native chart."""
    return [c for c in slack.calls if "data_visualization" in str(c.args.get("blocks", ""))]


# ---------------------------------------------------------------- Hangul in OpenAI charts


async def test_the_container_gets_a_real_hangul_font_and_the_model_its_path(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        ts = await ask(h, "<@UBOT> 월별 매출 차트 그려줘")

        [font] = h.openai.container_files_named("NanumGothic.ttf")
        [call] = h.openai.model_calls
        assert font.container_id == call.container_id  # in the thread's own container
        parsed = TTFont(io.BytesIO(font.disk_path.read_bytes()))
        glyphs = parsed.getBestCmap()
        assert all(ord(ch) in glyphs for ch in "월별매출합계")
        instructions = call.instructions or ""
        assert f'fontManager.addfont("{font.path}")' in instructions
        assert "romanized or English labels" not in instructions
        assert bot_messages(h.slack, ts)  # the turn was answered


async def test_a_second_question_reuses_the_font_already_in_the_container(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        ts = await ask(h, "<@UBOT> 합계?")
        reply = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> 차트도", thread_ts=ts
        )
        assert await h.send_event(as_app_mention(reply)) == 200
        await h.settle(wait_s=60)

        assert len(h.openai.container_files_named("NanumGothic.ttf")) == 1
        first, second = h.openai.model_calls
        assert second.container_id == first.container_id  # reused, not uploaded again
        [font] = h.openai.container_files_named("NanumGothic.ttf")
        assert font.path in (second.instructions or "")


async def test_when_the_font_cannot_go_in_charts_fall_back_to_english_labels(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        h.openai.refuse_container_uploads = True
        ts = await ask(h, "<@UBOT> 월별 매출 차트")

        assert h.openai.container_files_named("NanumGothic.ttf") == []
        [call] = h.openai.model_calls
        assert "romanized or English labels" in (call.instructions or "")
        assert "NanumGothic.ttf" not in (call.instructions or "").split("names such as")[0]
        assert "sales.csv: 3 rows" in "\n".join(m.text for m in bot_messages(h.slack, ts))


# ---------------------------------------------------------------- native charts


async def test_a_simple_pie_chart_is_drawn_by_slack_and_the_png_held_back(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.openai.model = with_files(*pie_chart(PIE))
        ts = await ask(h, "<@UBOT> 지역별 비중 파이")

        [chart] = blocks_of(h.slack, ts, "data_visualization")
        assert chart["title"] == "지역별 매출 비중"
        assert chart["chart"] == {"type": "pie", "segments": PIE["segments"]}
        [answer] = [m for m in bot_messages(h.slack, ts) if chart in m.blocks]
        assert "sales.csv: 3 rows" in answer.text  # the chart travels with the answer
        assert posted_files(h.slack, ts) == set()  # no PNG twice, never the description


async def test_a_chart_slack_refuses_arrives_as_its_png_and_the_answer_still_lands(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        h.slack.refused_block_types = frozenset({"data_visualization"})
        h.openai.model = with_files(*pie_chart(PIE))
        ts = await ask(h, "<@UBOT> 지역별 비중 파이")

        assert blocks_of(h.slack, ts, "data_visualization") == []
        assert chart_requests(h.slack)  # Slack was asked, and said no
        messages = bot_messages(h.slack, ts)
        assert any("sales.csv: 3 rows" in m.text for m in messages)
        assert posted_files(h.slack, ts) == {"share.png"}


@pytest.mark.parametrize(
    "description",
    [
        {**PIE, "segments": [{"label": f"r{n}", "value": n + 1} for n in range(7)]},
        {**PIE, "type": "bar"},
        {**PIE, "title": "x" * 51},
        {**PIE, "segments": [{"label": "서울특별시 강남구 역삼동 일대 매장 전체", "value": 1}]},
        {**PIE, "segments": [{"label": "서울", "value": 0}]},
        {**PIE, "colors": ["red"]},
        "not a chart",
    ],
    ids=["seven-slices", "bar", "long-title", "long-label", "zero", "extra-key", "garbage"],
)
async def test_a_description_outside_the_limits_leaves_the_png(
    tmp_path: Path, description: object
) -> None:
    async with harness(tmp_path) as h:
        h.openai.model = with_files(*pie_chart(description))
        ts = await ask(h, "<@UBOT> 지역별 비중 파이")

        assert blocks_of(h.slack, ts, "data_visualization") == []
        assert posted_files(h.slack, ts) == {"share.png"}
        assert chart_requests(h.slack) == []  # never offered to Slack


async def test_chart_text_is_plain_text_that_cannot_ping(tmp_path: Path) -> None:
    hostile = {
        "type": "pie",
        "title": "<!channel> share",
        "segments": [{"label": "@here", "value": 1}, {"label": "<@U999>", "value": 2}],
    }
    async with harness(tmp_path) as h:
        h.openai.model = with_files(*pie_chart(hostile))
        ts = await ask(h, "<@UBOT> share as a pie")

        [chart] = blocks_of(h.slack, ts, "data_visualization")
        labels = [s["label"] for s in chart["chart"]["segments"]]
        assert labels[0] == f"@{WORD_JOINER}here"
        assert chart["title"].startswith("<!channel>")  # plain_text: shown as typed, inert
        assert labels[1] == "<@U999>"


def test_chart_descriptions_are_checked_strictly() -> None:
    assert chart_problem(PIE) is None
    assert chart_block_for(PIE) == {
        "type": "data_visualization",
        "title": PIE["title"],
        "chart": {"type": "pie", "segments": PIE["segments"]},
    }
    same_labels = {**PIE, "segments": [{"label": "a", "value": 1}, {"label": "a", "value": 2}]}
    assert chart_problem(same_labels) == "segment labels must differ"
    assert chart_problem({**PIE, "segments": [{"label": "a", "value": True}]})
    assert chart_problem({**PIE, "segments": [{"label": "a", "value": float("nan")}]})
    assert chart_problem({**PIE, "segments": []})
    assert chart_block_for({**PIE, "title": " "}) is None


# ---------------------------------------------------------------- native tables


async def test_a_table_slack_refuses_as_a_data_table_goes_out_as_a_table_block(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        h.slack.refused_block_types = frozenset({"data_table"})
        ts = await ask(h, "<@UBOT> totals as a table")

        assert blocks_of(h.slack, ts, "data_table") == []
        [table] = blocks_of(h.slack, ts, "table")
        cells = [cell["text"] for row in table["rows"] for cell in row]
        assert "sales.csv" in cells and "600" in cells


def test_a_table_too_big_for_a_data_table_stays_text_and_nothing_is_lost() -> None:
    rows = "\n".join(f"| r{n} | {n} |" for n in range(150))
    [message, *_] = slack_messages_for(
        f"| k | v |\n|---|---|\n{rows}\n", table_caption=lambda n: f"T{n}"
    )
    kinds = [b["type"] for b in message.blocks]
    assert "data_table" not in kinds and "table" not in kinds
    assert "| r0 " in message.blocks[0]["text"]


def test_numbers_sort_as_numbers_and_codes_stay_text() -> None:
    table = "| 지역 | 매출 | 코드 | 비율 |\n|---|---:|---|---|\n| 서울 | 1,234.5 | 007 | 12% |\n"
    [message] = slack_messages_for(table, table_caption=lambda n: f"표 {n}")
    [block] = message.blocks
    assert block["type"] == "data_table" and block["caption"] == "표 1"
    header, row = block["rows"]
    assert all(cell["type"] == "raw_text" for cell in header)
    assert row[1] == {"type": "raw_number", "value": 1234.5, "text": "1,234.5"}
    assert [row[2]["type"], row[3]["type"]] == ["raw_text", "raw_text"]
    [plainer] = message.alternatives
    assert plainer[0]["type"] == "table"


# ---------------------------------------------------------------- full results as files


async def test_the_full_result_the_model_saved_is_posted_in_the_thread(tmp_path: Path) -> None:
    full = b"region,amount\n" + b"".join(b"r%d,%d\n" % (n, n) for n in range(500))
    saved = ModelArtifact(path="/mnt/data/full_result.csv", data=full)
    async with harness(tmp_path) as h:
        h.openai.model = with_files(saved, text="\n\nTop 20 shown; the full table is attached.")
        ts = await ask(h, "<@UBOT> every region's total")

        assert "full_result.csv" in posted_files(h.slack, ts)
        [record] = [f for m in bot_messages(h.slack, ts) for f in m.files]
        assert record.real_size == len(full)
        instructions = h.openai.model_calls[0].instructions or ""
        assert "save the full result under /mnt/data as a CSV file" in instructions
        assert ".xlsx" not in instructions


async def test_asking_for_excel_asks_the_model_for_an_xlsx_too(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        await ask(h, "<@UBOT> 전체 결과를 엑셀로 주세요")

        assert "save the full result as an .xlsx file too" in (
            h.openai.model_calls[0].instructions or ""
        )


@pytest.mark.parametrize(
    ("question", "wanted"),
    [("엑셀 파일로", True), ("as an Excel sheet", True), ("export xlsx", True), ("총합?", False)],
)
def test_excel_requests_are_recognised(question: str, wanted: bool) -> None:
    assert asks_for_excel(question) is wanted


# ---------------------------------------------------------------- the fake Slack refuses as Slack


@pytest.fixture
async def slack() -> Any:
    async with FakeSlack() as server:
        yield server


GOOD_TABLE = {
    "type": "data_table",
    "caption": "Table 1",
    "rows": [
        [{"type": "raw_text", "text": "k"}],
        [{"type": "raw_number", "value": 1, "text": "1"}],
    ],
}


@pytest.mark.parametrize(
    "block",
    [
        {**GOOD_TABLE, "caption": None},
        {**GOOD_TABLE, "rows": GOOD_TABLE["rows"][:1]},
        {**GOOD_TABLE, "rows": [GOOD_TABLE["rows"][0]] * 102},
        {**GOOD_TABLE, "rows": [[{"type": "raw_text", "text": "k"}] * 21] * 2},
        {**GOOD_TABLE, "rows": [[{"type": "raw_text", "text": "x" * 5001}]] * 2},
        {**GOOD_TABLE, "rows": [GOOD_TABLE["rows"][0], [{"type": "raw_text", "text": ""}]]},
        {**GOOD_TABLE, "page_size": 101},
        {"type": "data_visualization", "title": "t" * 51, "chart": chart_block_for(PIE)["chart"]},  # type: ignore[index]
        {"type": "data_visualization", "title": "t", "chart": {"type": "scatter"}},
        {
            "type": "data_visualization",
            "title": "t",
            "chart": {"type": "pie", "segments": [{"label": "a", "value": -1}]},
        },
    ],
)
async def test_the_fake_refuses_blocks_outside_the_documented_limits(
    slack: FakeSlack, block: dict[str, Any]
) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="t", blocks=[block])
    assert refused.value.response["error"] == "invalid_blocks"
    good = [GOOD_TABLE, chart_block_for(PIE)]
    assert (await client.chat_postMessage(channel="C1", text="t", blocks=good))["ok"]


async def test_an_english_thread_with_english_data_gets_no_font(tmp_path: Path) -> None:
    # 4.7 MB a container: only turns that may chart Korean carry it.
    async with harness(tmp_path) as h:
        ts = await ask(h, "<@UBOT> monthly sales as a chart")
        assert h.openai.container_files_named("NanumGothic.ttf") == []
        [call] = h.openai.model_calls
        assert "romanized or English labels" in (call.instructions or "")
        assert bot_messages(h.slack, ts)
