"""`insightbot ask` for a person at a terminal: --out is checked before any work, a finished
answer is never lost, each run's files keep the names the answer uses, --thread continues with
its files, and conversations live in their own database, never the bot's."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

from bot.ask import ask
from bot.config import load_settings
from bot.engines.openai import OpenAIEngine
from storage import open_store
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).parent.parent
CSV = b"region,amount\nSeoul,100\nBusan,200\nDaegu,300\n"


async def _command(fake: FakeOpenAI, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "SLACK", "INSIGHTBOT"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        OPENAI_API_KEY=fake.api_key,
        OPENAI_BASE_URL=fake.base_url,
        INSIGHTBOT_DB=str(tmp_path / "bot.db"),
        XDG_DATA_HOME=str(tmp_path / "data-home"),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "ask", *args,
        cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_an_out_path_that_is_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(CSV)
    (tmp_path / "taken").write_text("not a folder")
    async with FakeOpenAI() as fake:
        code, out, err = await _command(
            fake, tmp_path, "data.csv", "-q", "total?", "--out", "taken"
        )
        assert fake.requests == [], "nothing may run (or be billed) before --out is known good"
    assert code == 2 and out == ""
    assert "--out taken: is a file, not a folder" in err and "Traceback" not in err


async def test_an_out_path_that_cannot_be_made_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(CSV)
    (tmp_path / "taken").write_text("a file where a folder would go")
    async with FakeOpenAI() as fake:
        code, _out, err = await _command(
            fake, tmp_path, "data.csv", "-q", "total?", "--out", "taken/charts"
        )
        assert fake.requests == []
    assert code == 2 and "--out taken/charts: cannot write there" in err


async def test_a_folder_given_as_a_file_is_named_as_a_folder(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    async with FakeOpenAI() as fake:
        code, _out, err = await _command(fake, tmp_path, "exports", "-q", "total?")
    assert code == 2 and "exports: is a folder" in err


async def test_the_answer_is_printed_even_when_its_files_cannot_be_saved(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(CSV)
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    async with FakeOpenAI() as fake:
        settings = load_settings(
            {"OPENAI_API_KEY": fake.api_key, "OPENAI_BASE_URL": fake.base_url}, dotenv_path=None
        )
        engine = OpenAIEngine(settings=settings)
        store = await open_store(tmp_path / "ask.db")
        out, err = io.StringIO(), io.StringIO()
        try:
            result = await ask(
                settings=settings,
                engine=engine,
                store=store,
                paths=[data],
                question="total as a chart",
                thread_name=None,
                out_dir=blocked / "out",  # became unusable after the check
                stdout=out,
                stderr=err,
            )
        finally:
            await store.close()
            await engine.aclose()
    assert "3 rows, total 600" in out.getvalue(), "the finished answer was lost"
    lines = [line for line in err.getvalue().splitlines() if "could not save" in line]
    assert len(lines) == 1 and "the answer above is complete" in lines[0]
    assert result.exit_code == 1


async def test_each_run_keeps_the_names_the_answer_uses(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(CSV)
    async with FakeOpenAI() as fake:
        first = await _command(fake, tmp_path, "data.csv", "-q", "total as a chart")
        second = await _command(fake, tmp_path, "data.csv", "-q", "total as a chart")
    saved = []
    for code, out, _err in (first, second):
        assert code == 0
        (line,) = [line for line in out.splitlines() if line.startswith("saved: ")]
        path = Path(line.removeprefix("saved: "))
        saved.append(path)
        assert path.name in out.split("saved: ")[0], "the answer names another file"
    assert saved[0].name == saved[1].name and saved[0] != saved[1]
    assert all(
        (tmp_path / p).is_file() and p.parent.parent.name == "insightbot-output" for p in saved
    )


async def test_a_thread_continues_with_its_files_and_lives_in_its_own_database(
    tmp_path: Path,
) -> None:
    (tmp_path / "data.csv").write_bytes(CSV)
    async with FakeOpenAI() as fake:
        code, _out, err = await _command(
            fake, tmp_path, "data.csv", "-q", "total?", "--thread", "q3"
        )
        assert code == 0 and "new conversation 'q3'" in err
        code, out, err = await _command(fake, tmp_path, "-q", "and again?", "--thread", "q3")
        uploads = fake.requests_to("POST", "/v1/files")
    assert code == 0, err
    assert "continuing conversation 'q3' with its files: data.csv" in err
    assert "3 rows, total 600" in out
    assert len(uploads) == 1, "the thread's file was uploaded again"
    assert (tmp_path / "data-home" / "insightbot" / "ask.db").is_file()
    assert not (tmp_path / "bot.db").exists(), "ask wrote into the bot's database"


async def test_no_files_and_no_thread_is_one_clear_line(tmp_path: Path) -> None:
    async with FakeOpenAI() as fake:
        code, _out, err = await _command(fake, tmp_path, "-q", "total?")
        assert fake.requests == []
    assert code == 2 and "name at least one data file" in err


def test_an_unreachable_engine_is_named_with_its_cause_and_no_log_noise(tmp_path: Path) -> None:
    import socket
    import subprocess

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "data.csv").write_bytes(CSV)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "SLACK", "INSIGHTBOT"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        OPENAI_API_KEY="sk-test-unreachable",
        OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1",
        XDG_DATA_HOME=str(tmp_path / "data-home"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "data.csv", "-q", "total?"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"127.0.0.1:{port}: the connection was refused" in result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("{")], result.stderr
    assert "Traceback" not in result.stderr
