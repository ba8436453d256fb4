"""New formats on their way to the engine: the real OpenAI SDK against the fake server.

A compressed CSV reaches the sandbox as a zip of the decompressed file, ODS and JSON Lines
under names the code interpreter accepts, and the model's instructions say how to open each.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pandas as pd
import pytest

from bot.config import Secret, Settings
from bot.engines.openai import OpenAIEngine, Timing
from bot.files import inspect_file, sha256_of
from bot.types import Finished, LocalFile
from tests.fakes.openai_server import FakeOpenAI

FAST = Timing(backoff_s=0.01, max_wait_s=2.0)
SALES = "월,매출\n1월,100\n2월,200\n3월,300\n"


@pytest.fixture
async def engine(openai_fake: FakeOpenAI) -> AsyncIterator[OpenAIEngine]:
    base = Settings(
        openai_api_key=Secret(openai_fake.api_key),
        openai_base_url=openai_fake.base_url,
        model="gpt-5.6",
    )
    built = OpenAIEngine(settings=base, timing=FAST)
    yield built
    await built.aclose()


def local(path: Path) -> LocalFile:
    return LocalFile(
        key=f"slack-{path.name}",
        name=path.name,
        path=path,
        size=path.stat().st_size,
        sha256=sha256_of(path),
        facts=inspect_file(path, name=path.name),
    )


async def answer_and_instructions(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, file: LocalFile, out_dir: Path
) -> tuple[str, str]:
    uploaded = await engine.upload_file(file)
    session = await engine.prepare_session(session=None, files=[uploaded], label="T1:C1:9.0")
    events = [
        event
        async for event in engine.run(
            session=session,
            question="sum",
            files=[uploaded],
            history=(),
            turn_id="turn-1",
            out_dir=out_dir,
        )
    ]
    assert isinstance(events[-1], Finished), events[-1]
    return events[-1].text, openai_fake.model_calls[-1].instructions or ""


async def test_a_gzipped_csv_reaches_the_sandbox_decompressed_in_a_zip(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "매출.csv.gz"
    shared = gzip.compress(SALES.encode())
    path.write_bytes(shared)
    file = local(path)
    text, instructions = await answer_and_instructions(engine, openai_fake, file, tmp_path)
    (stored,) = openai_fake.files.values()
    assert stored.filename == "매출.csv.zip"
    with zipfile.ZipFile(io.BytesIO(openai_fake.file_bytes(stored.id))) as archive:
        assert archive.namelist() == ["매출.csv"]
        assert archive.read("매출.csv").decode() == SALES
    assert "- 매출.csv.zip: 3 rows, total 600" in text
    assert "매출.csv is inside the zip at /mnt/data/" in instructions
    assert "decompressed from 매출.csv.gz (gzip)" in instructions
    assert path.read_bytes() == shared  # the user's bytes untouched


async def test_ods_and_json_lines_travel_under_names_the_sandbox_accepts(
    engine: OpenAIEngine, openai_fake: FakeOpenAI, tmp_path: Path
) -> None:
    ods = tmp_path / "budget.ods"
    with pd.ExcelWriter(ods, engine="odf") as writer:
        pd.DataFrame({"item": ["a"], "cost": [1]}).to_excel(writer, index=False)
    lines = tmp_path / "events.ndjson"
    lines.write_bytes(b'{"a": 1}\n{"a": 2}\n')
    for file in (local(ods), local(lines)):
        await engine.upload_file(file)
    assert sorted(f.filename for f in openai_fake.files.values()) == [
        "budget.ods.zip",
        "events.ndjson.json",
    ]
