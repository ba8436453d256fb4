"""Sending one file's body to the upload URL Slack returned, streamed from disk.

The URL comes from ``files.getUploadURLExternal`` and needs no token, so none is sent. The
body is read from disk in chunks by a worker thread and sent as raw bytes with an exact
``Content-Length``: memory stays flat whatever the file size (slack-sdk's
``files_upload_v2`` reads each file whole instead).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import BinaryIO

import aiohttp

from bot.errors import SlackProblem

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
UPLOAD_ATTEMPTS = 3  # more tries after a 429, a server error or a broken connection
RETRY_PAUSE_S = 0.5
MAX_RETRY_AFTER_S = 30.0
# A slow link is fine; a link that stops taking bytes is not. No total limit: 400 MB takes a while.
_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)


async def send_upload_body(
    *,
    session: aiohttp.ClientSession | None,
    url: str,
    path: Path,
    length: int,
    proxy: str | None = None,
) -> None:
    """POST the ``length`` bytes of ``path`` to the upload ``url``.

    Without ``session`` a short-lived one is opened. Raises SlackProblem when Slack did not
    answer 200 (after more tries for 429, waiting its Retry-After, 5xx and broken
    connections).
    """
    async with AsyncExitStack() as stack:
        if session is None:
            session = await stack.enter_async_context(aiohttp.ClientSession())
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                await _post_once(session=session, url=url, path=path, length=length, proxy=proxy)
                return
            except _Retryable as problem:
                if attempt == UPLOAD_ATTEMPTS:
                    raise SlackProblem(detail=f"file upload: {problem}") from problem
                wait = problem.wait_s if problem.wait_s is not None else RETRY_PAUSE_S * attempt
                log.info("a file upload failed (%s); trying again in %.1fs", problem, wait)
                await asyncio.sleep(wait)


class _Retryable(Exception):
    def __init__(self, reason: str, *, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.wait_s = wait_s


async def _post_once(
    *, session: aiohttp.ClientSession, url: str, path: Path, length: int, proxy: str | None
) -> None:
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(length)}
    try:
        async with session.post(
            url,
            data=_chunks(path, length),
            headers=headers,
            proxy=proxy,
            timeout=_TIMEOUT,
            allow_redirects=False,
        ) as resp:
            body = (await resp.content.read(200)).decode("utf-8", "replace")
            if resp.status == 429:
                raise _Retryable("HTTP 429", wait_s=_retry_after(resp.headers.get("Retry-After")))
            if resp.status >= 500:
                raise _Retryable(f"HTTP {resp.status}")
            if resp.status != 200:
                raise SlackProblem(detail=f"file upload: HTTP {resp.status} {body!r}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise _Retryable(type(exc).__name__) from exc


def _retry_after(value: str | None) -> float | None:
    """Slack's Retry-After in seconds, at most MAX_RETRY_AFTER_S."""
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return None if seconds is None else min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


async def _chunks(path: Path, length: int) -> AsyncIterator[bytes]:
    """Exactly ``length`` bytes of ``path``, read by a worker thread one chunk at a time."""
    source: BinaryIO = await asyncio.to_thread(path.open, "rb")
    try:
        left = length
        while left > 0:
            chunk = await asyncio.to_thread(source.read, min(CHUNK_BYTES, left))
            if not chunk:
                raise SlackProblem(detail=f"file upload: {path.name} ended {left} bytes early")
            left -= len(chunk)
            yield chunk
    finally:
        source.close()
