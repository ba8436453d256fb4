"""Downloading users' Slack files: the bytes arrive, or the user is told which file and why."""

from __future__ import annotations

import logging
import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.config import Settings
from bot.errors import FileTooLarge, FileUnavailable
from bot.slack.download import download_file
from bot.slack.file_hosts import FileHostPolicy
from bot.slack.gateway import translate_file
from bot.types import SlackFile
from tests.fakes.slack_server import FakeSlack

MB = 1024 * 1024
CSV = "지역,매출\n서울,100\n부산,80\n".encode("cp949")


def leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir()]


def size_of(path: Path) -> int:
    return os.path.getsize(path)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def hosts_for(api_url: str) -> FileHostPolicy:
    """What the bot allows when SLACK_API_URL points at a fake or a proxy."""
    return FileHostPolicy.from_settings(Settings(slack_api_url=api_url))


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    out = tmp_path / "downloads"
    out.mkdir()
    return out


async def test_downloads_the_exact_bytes(
    fake: FakeSlack, session: aiohttp.ClientSession, dest: Path
) -> None:
    file = translate_file(fake.add_file(name="매출.csv", content=CSV))

    path = await download_file(
        session=session,
        file=file,
        token=fake.bot_token,
        dest_dir=dest,
        max_bytes=MB,
        hosts=hosts_for(fake.api_url),
    )

    assert path.read_bytes() == CSV
    assert path.parent == dest
    assert path.suffix == ".csv"


async def test_wrong_token_is_a_login_redirect_naming_the_file(
    fake: FakeSlack, session: aiohttp.ClientSession, dest: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    file = translate_file(fake.add_file(name="sales.csv", content=CSV))
    wrong = "xoxb-not-the-right-token"

    with pytest.raises(FileUnavailable) as caught:
        await download_file(
            session=session,
            file=file,
            token=wrong,
            dest_dir=dest,
            max_bytes=MB,
            hosts=hosts_for(fake.api_url),
        )

    message = caught.value.user_message
    assert "sales.csv" in message
    assert "login page" in message
    assert "invite" in message and "files:read" in message
    assert wrong not in str(caught.value) and wrong not in caplog.text
    assert leftovers(dest) == []


async def test_deleted_file_is_named(
    fake: FakeSlack, session: aiohttp.ClientSession, dest: Path
) -> None:
    raw = fake.add_file(name="old.csv", content=CSV)
    fake.delete_file(raw["id"])

    with pytest.raises(FileUnavailable) as caught:
        await download_file(
            session=session,
            file=translate_file(raw),
            token=fake.bot_token,
            dest_dir=dest,
            max_bytes=MB,
            hosts=hosts_for(fake.api_url),
        )

    assert "old.csv was deleted" in caught.value.user_message
    assert leftovers(dest) == []


async def test_declared_size_over_the_limit_is_refused_without_a_request(
    fake: FakeSlack, session: aiohttp.ClientSession, dest: Path
) -> None:
    raw = fake.add_file(name="huge.csv", content=CSV, size=1024 * MB)

    with pytest.raises(FileTooLarge) as caught:
        await download_file(
            session=session,
            file=translate_file(raw),
            token=fake.bot_token,
            dest_dir=dest,
            max_bytes=512 * MB,
            hosts=hosts_for(fake.api_url),
        )

    assert "huge.csv" in caught.value.user_message
    assert "512 MB" in caught.value.user_message
    assert fake.downloads == []


@pytest.mark.parametrize(
    ("content", "mimetype"),
    [
        (b"<!DOCTYPE html><html><body>Sign in to Slack</body></html>", "text/csv"),
        (b"  <html><head><title>Slack</title></head></html>", "text/csv"),
        (b"region,sales\n", "text/html"),
    ],
    ids=["doctype-body", "html-body", "html-content-type"],
)
async def test_html_instead_of_data_is_refused(
    fake: FakeSlack,
    session: aiohttp.ClientSession,
    dest: Path,
    content: bytes,
    mimetype: str,
) -> None:
    file = translate_file(fake.add_file(name="report.csv", content=content, mimetype=mimetype))

    with pytest.raises(FileUnavailable) as caught:
        await download_file(
            session=session,
            file=file,
            token=fake.bot_token,
            dest_dir=dest,
            max_bytes=MB,
            hosts=hosts_for(fake.api_url),
        )

    assert "report.csv" in caught.value.user_message
    assert leftovers(dest) == []


async def test_file_without_a_link_is_named() -> None:
    stub = SlackFile(id="F1", name="shared.xlsx", needs_info=True)

    with pytest.raises(FileUnavailable) as caught:
        async with aiohttp.ClientSession() as s:
            await download_file(
                session=s,
                file=stub,
                token="x",
                dest_dir=Path("."),
                max_bytes=MB,
                hosts=FileHostPolicy(),
            )

    assert "shared.xlsx" in caught.value.user_message


async def test_body_bigger_than_declared_size_stops_at_the_limit(
    fake: FakeSlack, session: aiohttp.ClientSession, dest: Path
) -> None:
    # Slack declares 10 bytes, but the body is larger than the limit.
    raw = fake.add_file(name="grows.csv", content=b"a,b\n" * 100_000, size=10)

    with pytest.raises(FileTooLarge) as caught:
        await download_file(
            session=session,
            file=translate_file(raw),
            token=fake.bot_token,
            dest_dir=dest,
            max_bytes=64 * 1024,
            hosts=hosts_for(fake.api_url),
        )

    assert "grows.csv" in caught.value.user_message
    assert leftovers(dest) == []


async def _chunked_without_length(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/csv"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for _ in range(64):
        await response.write(b"x" * 16 * 1024)
    await response.write_eof()
    return response


async def test_streamed_body_over_the_limit_leaves_no_partial_file(
    aiohttp_free_server: str, session: aiohttp.ClientSession, dest: Path
) -> None:
    file = SlackFile(id="F9", name="endless.csv", url_private_download=aiohttp_free_server)

    with pytest.raises(FileTooLarge):
        await download_file(
            session=session,
            file=file,
            token="t",
            dest_dir=dest,
            max_bytes=MB // 4,
            hosts=hosts_for(aiohttp_free_server),
        )

    assert leftovers(dest) == []


@pytest.fixture
async def aiohttp_free_server() -> AsyncIterator[str]:
    """A server on a free port that streams 1 MB with no Content-Length."""
    app = web.Application()
    app.router.add_get("/file", _chunked_without_length)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/file"
    finally:
        await runner.cleanup()


async def test_large_file_streams_with_flat_memory(
    fake: FakeSlack, session: aiohttp.ClientSession, dest: Path, tmp_path: Path
) -> None:
    size = 200 * MB
    source = tmp_path / "big.csv"
    with source.open("wb") as f:
        f.truncate(size)  # sparse: fast to make, still 200 MB to serve
    file = translate_file(fake.add_file(name="big.csv", path=source))

    tracemalloc.start()
    try:
        path = await download_file(
            session=session,
            file=file,
            token=fake.bot_token,
            dest_dir=dest,
            max_bytes=512 * MB,
            hosts=hosts_for(fake.api_url),
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert size_of(path) == size
    assert peak < 16 * MB


async def test_one_server_error_is_retried_and_a_persistent_one_is_named(
    fake: FakeSlack, session: aiohttp.ClientSession, dest: Path
) -> None:
    file = translate_file(fake.add_file(name="sales.csv", content=CSV))
    fake.fail_next("download", status=503, error="service_unavailable", retry_after=None)
    path = await download_file(
        session=session,
        file=file,
        token=fake.bot_token,
        dest_dir=dest,
        max_bytes=MB,
        hosts=hosts_for(fake.api_url),
    )
    assert path.read_bytes() == CSV

    fake.fail_next("download", status=503, error="service_unavailable", retry_after=None, times=2)
    with pytest.raises(FileUnavailable) as caught:
        await download_file(
            session=session,
            file=file,
            token=fake.bot_token,
            dest_dir=dest,
            max_bytes=MB,
            hosts=hosts_for(fake.api_url),
        )
    assert "sales.csv" in caught.value.user_message
    assert leftovers(dest) == [path.name]
