"""The bad-input corpus, end to end: each file either works or gets a clear message naming it
and saying what to do; the bytes reach the sandbox exactly as shared, the model is told their
encoding and delimiter, and the bot keeps answering other people meanwhile."""

from __future__ import annotations

import asyncio
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.slack_server import FakeSlack
from tests.harness import Harness, bot_over
from tests.reliability_harness import (
    CSV,
    answers,
    ask,
    creates,
    fakes,
    thread_text,
)

KOREAN = "지역,매출\n서울,100\n부산,200\n대구,300\n"


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    name: str
    content: bytes
    answer: str | None = None  # the fake model's line for the file, when it works
    told: tuple[str, ...] = ()  # what the instructions say about it / what the refusal says
    file: dict[str, Any] = field(default_factory=dict)  # add_file arguments
    deleted: bool = False
    html: bool = False


CASES = [
    Case("empty.csv", b"", told=("empty", "share it again")),
    Case("data.csv", bytes(range(256)) * 40, told=("binary", "real extension")),
    Case("utf16.csv", KOREAN.encode("utf-16"), "3 rows, total 600 (encoding utf-16)", ("utf-16",)),
    Case("매출.csv", KOREAN.encode("cp949"), "3 rows, total 600 (encoding cp949)", ("cp949",)),
    Case(
        "bom.csv", b"\xef\xbb\xbf" + CSV, "3 rows, total 600 (encoding utf-8-sig)", ("utf-8-sig",)
    ),
    Case("semi.csv", b"region;amount\nSeoul;100\nBusan;200\n", "2 rows, total 300", ("';'",)),
    Case(
        "ragged.csv",
        b"region,amount\nSeoul,100\nBusan,200,extra\nDaegu\n",
        "3 rows",
        ("ragged",),
    ),
    Case("huge.csv", CSV, told=("512 MB", "smaller file"), file={"size": 1 << 30}),
    Case(
        "report.pdf",
        b"%PDF-1.4\n",
        told=("not a file type I can read", "Export it as CSV or XLSX"),
        file={"mimetype": "application/pdf", "filetype": "pdf"},
    ),
    Case(
        "two.zip",
        _zip_of({"a.csv": CSV, "b.csv": CSV}),
        told=("holds 2 files", "Share the files themselves"),
        file={"mimetype": "application/zip", "filetype": "zip"},
    ),
    Case("gone.csv", CSV, told=("deleted", "share it again"), deleted=True),
    Case("login.csv", CSV, told=("login page", "/invite"), html=True),
    Case("📊 매출 데이터 (최종).csv", KOREAN.encode("utf-8"), "3 rows, total 600", ("utf-8",)),
]


async def _share(h: Harness, case: Case, *, text: str) -> dict[str, Any]:
    file = h.slack.add_file(name=case.name, content=case.content, **case.file)
    if case.deleted:
        h.slack.delete_file(file["id"])
    if case.html:
        file["url_private_download"] = file["permalink"]  # a web page, not the file
    return await ask(h, text=text, files=[file])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_each_bad_input_works_or_is_named_with_what_to_do(tmp_path: Path, case: Case) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        event, healthy = await asyncio.gather(
            _share(h, case, text="<@UBOT> what is the total?"),
            ask(h, channel="C2", user="U2"),
        )
        await h.settle()

        assert len(answers(slack, "C2", healthy["ts"])) == 1, "the bot stopped answering others"
        _assert_no_indicator_left(slack, "C1", event["ts"])
        text = thread_text(slack, "C1", event["ts"])
        if case.answer is None:
            assert case.name in text
            for words in case.told:
                assert words in text, (words, text)
            assert len(creates(openai)) == 1  # only the healthy question ran
            return
        assert f"{case.name}: {case.answer}" in text, text
        assert any(openai.file_bytes(f) == case.content for f in openai.files), "bytes changed"
        (call,) = [c for c in openai.model_calls if any(f.name == case.name for f in c.files)]
        for words in case.told:
            assert words in (call.instructions or ""), (words, call.instructions)


def _assert_no_indicator_left(slack: FakeSlack, channel: str, ts: str) -> None:
    """Whatever happened, nothing says "working" any more."""
    assert slack.statuses(channel, ts)[-1] == ""
    assert "eyes" not in slack.reactions(channel, ts)
    buttons = [
        element.get("action_id")
        for message in slack.thread(channel, ts)
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]
    assert "stop_turn" not in buttons


async def test_a_question_with_no_text_gets_a_summary_of_the_file(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        event = await ask(h, text="<@UBOT>")
        await h.settle()
        assert len(answers(slack, "C1", event["ts"])) == 1
        assert "summary" in openai.model_calls[0].question.lower()


async def test_thirty_files_in_one_message_use_the_newest_and_name_the_rest(
    tmp_path: Path,
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        files = [
            slack.add_file(name=f"part{n:02d}.csv", content=b"k,v\nx,%d\n" % n)
            for n in range(1, 31)
        ]
        event = await ask(h, text="<@UBOT> total of everything", files=files)
        await h.settle(30)
        text = thread_text(slack, "C1", event["ts"])
        (call,) = openai.model_calls
        used = sorted(f.name for f in call.files if f.source == "user" and f.name.endswith(".csv"))
        assert len(used) == h.settings.max_files_per_thread == 20
        left_out = sorted({f"part{n:02d}.csv" for n in range(1, 31)} - set(used))
        assert all(name in text for name in left_out)
        assert all(f"{name}: 1 rows" in text for name in used)


async def test_a_refused_file_is_explained_in_the_askers_language(tmp_path: Path) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        file = h.slack.add_file(
            name="발표.pptx", content=b"PK\x03\x04", mimetype="application/zip", filetype="pptx"
        )
        event = await ask(h, text="<@UBOT> 합계가 얼마야?", files=[file])
        await h.settle()
        text = thread_text(slack, "C1", event["ts"])
        assert "*발표.pptx* 파일은 읽을 수 없는 형식이에요" in text, text
        assert "CSV나 XLSX로 내보내서 다시 공유해 주세요." in text
        assert len(creates(openai)) == 0
