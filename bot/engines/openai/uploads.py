"""Send a local file to OpenAI's Files API, streamed from disk so memory stays flat.

Files up to ``DIRECT_LIMIT`` go in one multipart ``POST /files``; larger ones go through the
Uploads API in parts of ``PART_SIZE``, each part read from disk through a window over the
open file (never the whole part in memory), then completed with the file's MD5.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
from pathlib import Path
from typing import IO, Any, BinaryIO, Final, cast

import openai
from openai import omit

from bot.errors import EngineUnavailable

MB = 1024 * 1024
DIRECT_LIMIT = 64 * MB
PART_SIZE = 8 * MB
PURPOSE: Final = "user_data"
_READ_CHUNK = 1 * MB

log = logging.getLogger(__name__)


class FileWindow(io.RawIOBase):
    """A read-only, seekable view of ``length`` bytes of ``source`` starting at ``start``.

    The HTTP client reads multipart bodies in small chunks and seeks to 0 before sending (and
    again on a retry), so positions here are relative to the window. There is deliberately
    no ``fileno``: the client would take the whole file's size from it.
    """

    def __init__(self, source: BinaryIO, *, start: int, length: int) -> None:
        super().__init__()
        self._source = source
        self._start = start
        self._length = length
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        self._position = min(max(base + offset, 0), self._length)
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._length - self._position)
        if wanted <= 0:
            return 0
        self._source.seek(self._start + self._position)
        data = self._source.read(wanted)
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


def md5_of(path: Path) -> str:
    """Hex MD5 of a file, read in chunks (blocking: call it in a worker thread)."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


async def upload_path(
    client: openai.AsyncOpenAI,
    *,
    path: Path,
    upload_name: str,
    mime_type: str,
    expires_after_s: int | None = None,
) -> str:
    """Upload ``path`` under ``upload_name``; return the engine file id. With
    ``expires_after_s`` the file expires that long after its creation (a backstop for
    retention: it goes even if our own deletion never happens).

    Raises openai SDK errors (the caller translates them) and EngineUnavailable.
    """
    size = (await asyncio.to_thread(path.stat)).st_size
    expires: Any = (
        omit if expires_after_s is None else {"anchor": "created_at", "seconds": expires_after_s}
    )
    if size <= DIRECT_LIMIT:
        with path.open("rb") as handle:
            created = await client.files.create(
                file=(upload_name, handle, mime_type), purpose=PURPOSE, expires_after=expires
            )
        return created.id
    return await _upload_in_parts(
        client,
        path=path,
        size=size,
        upload_name=upload_name,
        mime_type=mime_type,
        expires=expires,
    )


async def _upload_in_parts(
    client: openai.AsyncOpenAI,
    *,
    path: Path,
    size: int,
    upload_name: str,
    mime_type: str,
    expires: Any,
) -> str:
    md5 = asyncio.create_task(asyncio.to_thread(md5_of, path))
    upload = await client.uploads.create(
        bytes=size,
        filename=upload_name,
        mime_type=mime_type,
        purpose=PURPOSE,
        expires_after=expires,
    )
    try:
        part_ids: list[str] = []
        with path.open("rb") as handle:
            for start in range(0, size, PART_SIZE):
                window = FileWindow(handle, start=start, length=min(PART_SIZE, size - start))
                part = await client.uploads.parts.create(
                    upload.id,
                    data=(upload_name, cast(IO[bytes], window), "application/octet-stream"),
                )
                part_ids.append(part.id)
        completed = await client.uploads.complete(upload.id, part_ids=part_ids, md5=await md5)
    except BaseException:
        md5.cancel()
        await _cancel_quietly(client, upload.id)
        raise
    if completed.file is None:
        raise EngineUnavailable(detail=f"upload {upload.id} completed without a file")
    log.info("uploaded %s in %d parts", completed.file.id, len(part_ids))
    return completed.file.id


async def _cancel_quietly(client: openai.AsyncOpenAI, upload_id: str) -> None:
    try:
        await client.uploads.cancel(upload_id)
    except openai.OpenAIError:
        log.warning("could not cancel upload %s", upload_id)
