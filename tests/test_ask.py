"""`insightbot ask`: files and a question from a terminal, through the real engine and the fake."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.ask import ask
from bot.config import load_settings
from bot.engines.openai import OpenAIEngine
from storage import open_store
from tests.fakes.openai_model import ModelArtifact, ModelContext, ModelResult, default_model
from tests.fakes.openai_server import FakeOpenAI
from tests.samples import KOREAN_SALES_CSV

CSV = KOREAN_SALES_CSV


async def _ask(
    fake: FakeOpenAI, tmp_path: Path, paths: list[Path], question: str, thread: str | None = None
) -> tuple[int, str, str, tuple[Path, ...]]:
    settings = load_settings(
        {
            "OPENAI_API_KEY": fake.api_key,
            "OPENAI_BASE_URL": fake.base_url,
            "INSIGHTBOT_DB": str(tmp_path / "cli.db"),
        },
        dotenv_path=None,
    )
    engine = OpenAIEngine(settings=settings)
    store = await open_store(settings.db_path)
    out, err = io.StringIO(), io.StringIO()
    try:
        result = await ask(
            settings=settings,
            engine=engine,
            store=store,
            paths=paths,
            question=question,
            thread_name=thread,
            out_dir=tmp_path / "out",
            stdout=out,
            stderr=err,
        )
    finally:
        await store.close()
        await engine.aclose()
    return result.exit_code, out.getvalue(), err.getvalue(), result.saved


async def test_ask_prints_the_answer_and_saves_the_chart(tmp_path: Path) -> None:
    data = tmp_path / "매출.csv"
    data.write_bytes(CSV)
    async with FakeOpenAI() as fake:
        code, out, err, saved = await _ask(fake, tmp_path, [data], "매출 합계를 차트로")
    assert code == 0
    assert "3 rows, total 600" in out
    # Steps (in the question's language) and the code as it is written.
    assert "Python 실행 중" in err and "import" in err
    assert len(saved) == 1 and saved[0].read_bytes().startswith(b"\x89PNG")
    assert f"저장함: {saved[0]}" in out


async def test_ask_saves_what_fits_and_names_a_file_over_the_limit(tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    data.write_bytes(CSV)
    async with FakeOpenAI() as fake:
        extra = [
            ModelArtifact(path="/mnt/data/summary.csv", data=b"a,b\n1,2\n"),
            ModelArtifact(path="/mnt/data/huge.csv", size=200 * 1024 * 1024),
        ]

        def model(context: ModelContext) -> ModelResult:
            result = default_model(context)
            return replace(result, artifacts=[*result.artifacts, *extra])

        fake.model = model
        code, out, err, saved = await _ask(fake, tmp_path, [data], "total as a chart")
        [huge] = fake.container_files_named("huge.csv")
    assert code == 0
    assert sorted(p.name for p in saved) == ["chart.png", "summary.csv"]
    summary = next(p for p in saved if p.name == "summary.csv")
    assert summary.parent.parent == tmp_path / "out", "each run gets its own folder in --out"
    assert summary.read_bytes() == b"a,b\n1,2\n"
    assert f"saved: {summary}" in out
    assert "huge.csv (200 MB): larger than the limit of 100 MB per file" in err
    assert huge.content_requests == 0


async def test_thread_option_continues_the_conversation_with_the_same_files(tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    data.write_bytes(b"k,v\na,1\nb,2\n")
    async with FakeOpenAI() as fake:
        first = await _ask(fake, tmp_path, [data], "total?", thread="q3")
        second = await _ask(fake, tmp_path, [data], "and again?", thread="q3")
        conversations = {
            r.json["conversation"] for r in fake.requests_to("POST", "/v1/responses") if r.json
        }
        uploads = fake.requests_to("POST", "/v1/files")
    assert first[0] == second[0] == 0
    assert "2 rows, total 3" in second[1]
    assert len(conversations) == 1
    assert len(uploads) == 1


async def test_engine_failure_gives_its_message_and_exit_code_1(tmp_path: Path) -> None:
    data = tmp_path / "sales.csv"
    data.write_bytes(b"k,v\na,1\n")
    async with FakeOpenAI() as fake:
        fake.fail_next("POST", "/v1/responses", status=429, code="insufficient_quota")
        code, out, err, _ = await _ask(fake, tmp_path, [data], "total?")
    assert code == 1
    assert "quota" in err.lower()
    assert out == ""


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("files", "env_key", "fragment"),
    [
        (["data.csv"], None, "OPENAI_API_KEY is not set"),
        (["missing.csv"], "sk-x", "missing.csv: no such file"),
        (["tool.exe"], "sk-x", "not a supported type"),
        (["empty.csv"], "sk-x", "empty.csv"),
    ],
)
def test_bad_input_gives_one_clear_line_and_exit_code_2(
    tmp_path: Path, files: list[str], env_key: str | None, fragment: str
) -> None:
    (tmp_path / "data.csv").write_bytes(b"a,b\n1,2\n")
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    (tmp_path / "empty.csv").write_bytes(b"")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "SLACK", "INSIGHTBOT"))
    }
    env["PYTHONPATH"] = str(Path(__file__).parent.parent)
    env["INSIGHTBOT_DB"] = str(tmp_path / "x.db")
    env["XDG_DATA_HOME"] = str(tmp_path / "data-home")
    if env_key:
        env["OPENAI_API_KEY"] = env_key
        env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
    result = _cli(["ask", *files, "--question", "total?"], env, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert fragment in lines[0]
    assert "sk-x" not in result.stderr
