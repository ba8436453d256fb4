"""The HTTP server bounds what a client can hold: slow bodies get 408, a flood beyond the limit
gets 503, idle keep-alive connections close, malformed signature headers get 401, a dropped
connection is one short log line, and Socket Mode's health port takes no events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from handlers.app import start_site, web_application
from handlers.http_guard import HttpLimits, signature_headers_ok
from tests.harness import Harness, harness

TIGHT = HttpLimits(body_timeout_s=0.5, max_in_flight=2, keepalive_timeout_s=0.5)


@asynccontextmanager
async def tight_server(h: Harness, *, events: bool = True) -> AsyncIterator[int]:
    runner = await start_site(
        web_application(h.bot, events=events, limits=TIGHT), "127.0.0.1", 0, limits=TIGHT
    )
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


def _head(length: int, *, timestamp: str = "1700000000", path: str = "/slack/events") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: v0={'0' * 64}\r\n\r\n"
    ).encode()


async def _status_of(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), 5)
    return int(line.split()[1])


async def test_a_body_that_arrives_too_slowly_gets_408(tmp_path: Path) -> None:
    async with harness(tmp_path) as h, tight_server(h) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(_head(100) + b'{"type":')  # and then nothing more
        await writer.drain()
        assert await _status_of(reader) == 408
        writer.close()


async def test_requests_beyond_the_limit_in_flight_get_503_and_health_still_answers(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h, tight_server(h) as port:
        held = []
        for _ in range(TIGHT.max_in_flight):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(_head(100))
            await writer.drain()
            held.append((reader, writer))
        await asyncio.sleep(0.1)
        async with h.http.post(
            f"http://127.0.0.1:{port}/slack/events", data=b"{}", headers=h.slack.sign("{}")
        ) as busy:
            assert busy.status == 503
        async with h.http.get(f"http://127.0.0.1:{port}/healthz") as health:
            assert health.status == 200
        for reader, writer in held:  # the held ones end with 408, freeing their places
            assert await _status_of(reader) == 408
            writer.close()
        async with h.http.post(
            f"http://127.0.0.1:{port}/slack/events", data=b"{}", headers=h.slack.sign("{}")
        ) as again:
            assert again.status != 503


async def test_an_idle_keep_alive_connection_is_closed(tmp_path: Path) -> None:
    async with harness(tmp_path) as h, tight_server(h) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        await writer.drain()
        assert await _status_of(reader) == 200
        # After the answer the connection sits idle; the server must close it by itself.
        rest = await asyncio.wait_for(reader.read(), TIGHT.keepalive_timeout_s + 3)
        assert b'"ok"' in rest
        assert reader.at_eof()
        writer.close()


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("abc", "v0=" + "0" * 64),
        ("", "v0=" + "0" * 64),
        ("1700000000", "v0=zz"),
        ("1700000000", None),
        ("9" * 40, "v0=" + "0" * 64),
    ],
)
async def test_malformed_signature_headers_get_401_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, timestamp: str, signature: str | None
) -> None:
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp}
    if signature is not None:
        headers["X-Slack-Signature"] = signature
    with caplog.at_level(logging.INFO):
        async with (
            harness(tmp_path) as h,
            h.http.post(h.events_url, data=b"{}", headers=headers) as response,
        ):
            assert response.status == 401
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not h.slack.calls_to("chat.postMessage")


def test_well_formed_signature_headers_pass_the_shape_check() -> None:
    assert signature_headers_ok("1700000000", "v0=" + "ab" * 32)
    assert not signature_headers_ok("1700000000 ", "v0=" + "ab" * 32)


async def test_a_dropped_connection_is_one_short_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        async with harness(tmp_path) as h, tight_server(h) as port:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(_head(1000) + b'{"type": "event_callback"')
            await writer.drain()
            writer.close()
            await asyncio.sleep(0.3)
            async with h.http.get(f"http://127.0.0.1:{port}/healthz") as health:
                assert health.status == 200
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert not noisy, [r.getMessage() for r in noisy]
    assert any("closed the connection" in r.getMessage() for r in caplog.records)


async def test_socket_mode_health_port_takes_no_events(tmp_path: Path) -> None:
    async with harness(tmp_path) as h, tight_server(h, events=False) as port:
        body = '{"type": "event_callback"}'
        async with h.http.post(
            f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=h.slack.sign(body)
        ) as response:
            assert response.status in (404, 405)
        async with h.http.get(f"http://127.0.0.1:{port}/healthz") as health:
            assert health.status == 200
