"""Saving the content of one container file to local disk: streamed, counted and bounded.

The content never sits whole in memory: it arrives through the SDK's streaming response in
chunks, each written to a new file by a worker thread (disk writes stay off the event loop).
The bytes are counted as they arrive, so a file longer than allowed stops at the first chunk
past the bound, and the partial file is deleted.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

import openai

CHUNK_BYTES = 1 << 20
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


class TooManyBytes(Exception):
    """More bytes arrived than allowed; the partial file is already deleted."""

    def __init__(self, received: int) -> None:
        super().__init__(f"more than allowed: {received} bytes so far")
        self.received = received


def safe_suffix(name: str) -> str:
    """The file's extension when it is a plain one (for the local file's name only)."""
    suffix = Path(name).suffix
    return suffix if _SAFE_SUFFIX.match(suffix) else ""


async def save_container_file(
    client: openai.AsyncOpenAI,
    *,
    container_id: str,
    file_id: str,
    dest_dir: Path,
    suffix: str,
    max_bytes: int,
) -> tuple[Path, int, str]:
    """Stream a container file into a new file in ``dest_dir``; return (path, size, sha256).

    Raises TooManyBytes when more than ``max_bytes`` arrive, and the SDK's errors; the partial
    file is deleted in every failure (cancellation included).
    """
    fd, raw_path = await asyncio.to_thread(
        tempfile.mkstemp, dir=dest_dir, prefix="artifact-", suffix=suffix
    )
    path = Path(raw_path)
    out: BinaryIO = os.fdopen(fd, "wb")
    hasher = hashlib.sha256()
    received = 0
    try:
        content = client.containers.files.content.with_streaming_response
        async with content.retrieve(file_id, container_id=container_id) as response:
            async for chunk in response.iter_bytes(CHUNK_BYTES):
                received += len(chunk)
                if received > max_bytes:
                    raise TooManyBytes(received)  # leaving the block closes the connection
                await asyncio.to_thread(_write, out, hasher, chunk)
        await asyncio.to_thread(out.close)
    except BaseException:
        # Synchronous on purpose: this also runs on cancellation, when another await could be
        # interrupted and leave the partial file behind.
        out.close()
        path.unlink(missing_ok=True)  # noqa: ASYNC240
        raise
    return path, received, hasher.hexdigest()


async def save_bytes(data: bytes, *, dest_dir: Path, suffix: str) -> Path:
    """Write small ``data`` (an inline image) to a new file in ``dest_dir``."""
    return await asyncio.to_thread(_save_bytes, data, dest_dir, suffix)


def _write(out: BinaryIO, hasher: hashlib._Hash, chunk: bytes) -> None:
    out.write(chunk)
    hasher.update(chunk)


def _save_bytes(data: bytes, dest_dir: Path, suffix: str) -> Path:
    fd, raw_path = tempfile.mkstemp(dir=dest_dir, prefix="artifact-", suffix=suffix)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return Path(raw_path)
