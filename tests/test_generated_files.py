"""Files the code writes are bounded and stream sandbox → disk → Slack, end to end.

The fake OpenAI makes up large files chunk by chunk as they are read (never stored), and the
fake Slack counts and hashes what arrives at its upload URLs, so a 300 MB file costs neither
fake any memory: what the bot's turn holds is what the memory figure measures.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from bot.engines.output_budget import OutputBudget
from bot.types import LONGER_THAN_DECLARED, OVER_FILE_LIMIT, OVER_TURN_LIMIT
from tests.fakes.openai_model import ModelArtifact, ModelContext, ModelResult, default_model
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.openai_state import ContainerFileState
from tests.fakes.slack_payloads import as_app_mention
from tests.fakes.slack_server import FakeSlack, FileRecord
from tests.harness import Harness, harness
from tests.samples import SALES_CSV

MB = 1024 * 1024
CSV = SALES_CSV


def producing(*extra: ModelArtifact) -> object:
    """A model that answers as usual and also "saves" ``extra`` files (cited in the text)."""

    def model(context: ModelContext) -> ModelResult:
        result = default_model(context)
        links = "".join(f"\n[{a.path.rsplit('/', 1)[-1]}](sandbox:{a.path})" for a in extra)
        return replace(result, text=result.text + links, artifacts=[*result.artifacts, *extra])

    return model


async def ask(h: Harness, text: str) -> str:
    """A mention with a CSV; returns the thread ts once the bot has finished the turn."""
    file = h.slack.add_file(name="sales.csv", content=CSV)
    event = h.slack.post_user_message(channel="C1", user="U1", text=text, files=[file])
    assert await h.send_event(as_app_mention(event)) == 200
    await h.settle(wait_s=120)
    return str(event["ts"])


def thread_text(slack: FakeSlack, ts: str) -> str:
    return "\n".join(m.text for m in slack.thread("C1", ts) if m.bot)


def posted(slack: FakeSlack, ts: str) -> dict[str, FileRecord]:
    return {f.name: f for m in slack.thread("C1", ts) if m.bot for f in m.files}


def container_file(openai: FakeOpenAI, name: str) -> ContainerFileState:
    [file] = openai.container_files_named(name)
    return file


def leftovers(h: Harness) -> list[Path]:
    """Files still in the bot's work folder (every turn must clean up after itself)."""
    return [p for p in h.bot.services.workdir.rglob("*") if p.is_file()]


async def test_a_file_over_the_limit_is_never_downloaded_and_is_named(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.openai.model = producing(ModelArtifact(path="/mnt/data/big.csv", size=300 * MB))
        ts = await ask(h, "<@UBOT> 지역별 매출 차트와 전체 데이터 파일")

        big = container_file(h.openai, "big.csv")
        assert big.bytes == 300 * MB and big.content_requests == 0
        assert set(posted(h.slack, ts)) == {"chart.png"}  # the rest of the answer still came
        text = thread_text(h.slack, ts)
        assert "big.csv (300 MB): 파일 하나의 한도 100 MB를 넘어요" in text
        assert len(h.slack.upload_posts) == 1  # the chart's, and nothing else
        assert leftovers(h) == []


async def test_with_the_limit_raised_the_file_streams_through_in_flat_memory(
    tmp_path: Path,
) -> None:
    limits = {"INSIGHTBOT_MAX_OUTPUT_FILE_MB": "400", "INSIGHTBOT_MAX_OUTPUT_TURN_MB": "1000"}
    async with harness(tmp_path, **limits) as h:
        h.openai.model = producing(ModelArtifact(path="/mnt/data/big.csv", size=300 * MB))
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            ts = await ask(h, "<@UBOT> total as a chart, and the whole table as a file")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        big = container_file(h.openai, "big.csv")
        assert big.content_requests == 1
        files = posted(h.slack, ts)
        assert set(files) == {"chart.png", "big.csv"}
        assert files["big.csv"].real_size == 300 * MB
        assert files["big.csv"].sha256 == big.virtual.sha256()  # type: ignore[union-attr]
        assert len(h.slack.calls_to("files.completeUploadExternal")) == 1  # one message
        assert (peak - before) < 64 * MB, f"the turn held {(peak - before) / MB:.0f} MB"
        assert leftovers(h) == []


async def test_files_past_the_turn_total_are_left_out_and_named(tmp_path: Path) -> None:
    limits = {"INSIGHTBOT_MAX_OUTPUT_FILE_MB": "1", "INSIGHTBOT_MAX_OUTPUT_TURN_MB": "2"}
    parts = [ModelArtifact(path=f"/mnt/data/part{n}.csv", size=800 * 1024) for n in (1, 2, 3)]
    async with harness(tmp_path, **limits) as h:
        h.openai.model = producing(*parts)
        ts = await ask(h, "<@UBOT> split the data into files")

        assert set(posted(h.slack, ts)) == {"part1.csv", "part2.csv"}
        assert container_file(h.openai, "part3.csv").content_requests == 0
        [notice] = [m.text for m in h.slack.thread("C1", ts) if "did not post" in m.text]
        assert "part3.csv (0.8 MB): the files of one answer may total at most 2 MB" in notice
        assert "part1.csv" not in notice and "part2.csv" not in notice


async def test_a_file_longer_than_its_listed_size_is_cut_off_and_named(tmp_path: Path) -> None:
    liar = ModelArtifact(path="/mnt/data/lie.csv", size=5 * MB, declared_bytes=1000)
    async with harness(tmp_path) as h:
        h.openai.model = producing(liar)
        ts = await ask(h, "<@UBOT> total as a chart and a file")

        assert container_file(h.openai, "lie.csv").content_requests == 1
        assert set(posted(h.slack, ts)) == {"chart.png"}
        assert "lie.csv (1 KB): it turned out larger than the sandbox said" in thread_text(
            h.slack, ts
        )
        assert leftovers(h) == []


async def test_files_slack_refuses_are_named_and_cleaned_up(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        h.slack.fail_next("files.completeUploadExternal", status=200, error="internal_error")
        h.openai.model = producing(ModelArtifact(path="/mnt/data/out.csv", data=b"a,b\n1,2\n"))
        ts = await ask(h, "<@UBOT> total as a chart and a file")

        assert posted(h.slack, ts) == {}
        assert "Slack did not accept these files from the analysis: chart.png, out.csv" in (
            thread_text(h.slack, ts)
        )
        assert leftovers(h) == []


# ---------------------------------------------------------------- the bookkeeping itself


@pytest.mark.parametrize(
    ("used", "declared", "refusal"),
    [
        (0, 100, None),
        (0, 101, (OVER_FILE_LIMIT, 100)),
        (200, 100, None),
        (201, 100, (OVER_TURN_LIMIT, 300)),
        (300, None, (OVER_TURN_LIMIT, 300)),
        (0, None, None),
    ],
)
def test_declared_sizes_are_checked_against_both_limits(
    used: int, declared: int | None, refusal: tuple[str, int] | None
) -> None:
    assert OutputBudget(file_limit=100, turn_limit=300, used=used).refusal(declared) == refusal


@pytest.mark.parametrize(
    ("used", "declared", "cap", "overrun"),
    [
        (0, 40, 40, (LONGER_THAN_DECLARED, 40)),
        (0, None, 100, (OVER_FILE_LIMIT, 100)),
        (250, None, 50, (OVER_TURN_LIMIT, 300)),
    ],
)
def test_a_download_may_bring_no_more_than_declared_or_the_limits_leave(
    used: int, declared: int | None, cap: int, overrun: tuple[str, int]
) -> None:
    budget = OutputBudget(file_limit=100, turn_limit=300, used=used)
    assert budget.cap_for(declared) == cap
    assert budget.overrun(declared) == overrun
