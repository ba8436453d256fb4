"""Downloading a user's Slack file to local disk, streamed, with the bot token.

The token goes only to Slack's own file hosts (``FileHostPolicy``): a remote file (a link to
Google Drive, …) and a URL on any other host are refused before any request is made.
Slack answers a request it will not serve with a redirect to a login page (and then that page
with HTTP 200), so redirects are never followed and an HTML body is refused: a login page saved
as ``data.csv`` would otherwise reach the analysis as if it were data.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from functools import partial
from pathlib import Path
from typing import BinaryIO

import aiohttp

from bot import messages
from bot.errors import FileTooLarge, FileUnavailable
from bot.slack.file_hosts import FileHostPolicy, host_of
from bot.types import SlackFile

log = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 2  # one more try after a server error or a broken connection
RETRY_PAUSE_S = 0.5

CHUNK_BYTES = 1 << 20
# A slow link is fine; a link that stops sending is not. No total limit: 500 MB takes a while.
_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
_HTML_STARTS = (b"<!doctype", b"<html")
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


async def download_file(
    *,
    session: aiohttp.ClientSession,
    file: SlackFile,
    token: str,
    dest_dir: Path,
    max_bytes: int,
    hosts: FileHostPolicy,
) -> Path:
    """Download ``file`` into a new file in ``dest_dir`` and return its path.

    Streams in chunks (memory stays flat whatever the size); disk writes run in a worker
    thread. A partial file is deleted on any failure.
    Raises FileTooLarge (declared size or streamed bytes over ``max_bytes``) and
    FileUnavailable (a remote file, a link off Slack's file hosts, no link, a redirect,
    deleted, refused, an HTML page, a network failure); the first two make no request.
    Their words are in every language (``text_for``).
    """
    name = file.name or file.id
    refuse_remote(file)
    url = file.url_private_download
    if url and not hosts.allows(url):
        # Never the URL itself in the log: only the host, so the operator can tell who it was.
        log.warning(
            "file %s links to host %s, not a Slack file host: not downloaded", file.id, host_of(url)
        )
        raise FileUnavailable(
            partial(messages.file_not_on_slack, name=name),
            file_name=name,
            detail=f"{file.id}: host {host_of(url)} is not a Slack file host",
        )
    if file.size is not None and file.size > max_bytes:
        raise _too_large(name, max_bytes=max_bytes, detail=f"declared size {file.size}")
    if not url:
        raise FileUnavailable(
            partial(messages.no_download_link, name=name),
            file_name=name,
            detail=f"{file.id}: no url_private_download",
        )
    headers = {"Authorization": f"Bearer {token}"}
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            path = await _download_once(
                session=session,
                url=url,
                headers=headers,
                file=file,
                name=name,
                dest_dir=dest_dir,
                max_bytes=max_bytes,
            )
            break
        except FileUnavailable as problem:
            if not problem.retryable or attempt == DOWNLOAD_ATTEMPTS:
                raise
            log.info("download of %s failed (%s); trying again", file.id, problem.detail)
            await asyncio.sleep(RETRY_PAUSE_S * attempt)
    log.info("downloaded file %s (%d bytes)", file.id, path.stat().st_size)
    return path


def refuse_remote(file: SlackFile) -> None:
    """Raise FileUnavailable naming ``file`` when it is a link to a file stored outside Slack."""
    if file.is_remote:
        name = file.name or file.id
        raise FileUnavailable(
            partial(messages.remote_file, name=name),
            file_name=name,
            detail=f"{file.id}: a remote file (stored outside Slack)",
        )


async def _download_once(
    *,
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    file: SlackFile,
    name: str,
    dest_dir: Path,
    max_bytes: int,
) -> Path:
    try:
        async with session.get(
            url, headers=headers, allow_redirects=False, timeout=_TIMEOUT
        ) as resp:
            _check_response(resp, name=name, file_id=file.id, max_bytes=max_bytes)
            return await _stream_to_disk(
                resp, name=name, file_id=file.id, dest_dir=dest_dir, max_bytes=max_bytes
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        problem = FileUnavailable(
            partial(messages.download_broke_off, name=name),
            file_name=name,
            detail=f"{file.id}: {type(exc).__name__}",
        )
        problem.retryable = True  # a network hiccup: worth one more try
        raise problem from exc


def _check_response(
    resp: aiohttp.ClientResponse, *, name: str, file_id: str, max_bytes: int
) -> None:
    """Raise the FileProblem that the status and headers already prove, before any body."""
    status = resp.status
    detail = f"{file_id}: HTTP {status}"
    if 300 <= status < 400:
        raise FileUnavailable(
            partial(messages.download_redirected, name=name), file_name=name, detail=detail
        )
    if status in (404, 410):
        raise FileUnavailable(
            partial(messages.file_deleted, name=name), file_name=name, detail=detail
        )
    if status in (401, 403):
        raise FileUnavailable(
            partial(messages.download_refused, name=name), file_name=name, detail=detail
        )
    if status != 200:
        problem = FileUnavailable(
            partial(messages.download_failed, name=name, status=status),
            file_name=name,
            detail=detail,
        )
        problem.retryable = status >= 500 or status == 429
        raise problem
    if resp.content_type == "text/html":
        raise _login_page(name, detail=f"{file_id}: content type text/html")
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise _too_large(name, max_bytes=max_bytes, detail=f"content-length {resp.content_length}")


async def _stream_to_disk(
    resp: aiohttp.ClientResponse, *, name: str, file_id: str, dest_dir: Path, max_bytes: int
) -> Path:
    suffix = Path(name).suffix
    fd, raw_path = await asyncio.to_thread(
        tempfile.mkstemp,
        dir=dest_dir,
        prefix=f"slack-{file_id}-",
        suffix=suffix if _SAFE_SUFFIX.match(suffix) else "",
    )
    path = Path(raw_path)
    out: BinaryIO = os.fdopen(fd, "wb")
    try:
        received = 0
        async for chunk in resp.content.iter_chunked(CHUNK_BYTES):
            if received == 0 and chunk.lstrip()[:9].lower().startswith(_HTML_STARTS):
                raise _login_page(name, detail=f"{file_id}: body starts like HTML")
            received += len(chunk)
            if received > max_bytes:
                raise _too_large(name, max_bytes=max_bytes, detail=f"over {received} bytes")
            await asyncio.to_thread(out.write, chunk)
        await asyncio.to_thread(out.close)
    except BaseException:
        # Synchronous on purpose: this also runs on cancellation, when another await could be
        # interrupted and leave the partial file behind.
        out.close()
        path.unlink(missing_ok=True)  # noqa: ASYNC240
        raise
    return path


def _login_page(name: str, *, detail: str) -> FileUnavailable:
    return FileUnavailable(
        partial(messages.download_web_page, name=name), file_name=name, detail=detail
    )


def _too_large(name: str, *, max_bytes: int, detail: str) -> FileTooLarge:
    return FileTooLarge(
        partial(messages.file_too_large, name=name, max_bytes=max_bytes),
        file_name=name,
        detail=detail,
    )
