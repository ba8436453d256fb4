"""Files, Uploads and Models of the fake OpenAI server.

File contents are streamed to the server's temporary directory chunk by chunk (each chunk
written from a worker thread), so a large upload is never held in memory; uploads in parts
are concatenated on disk.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from aiohttp import BodyPartReader, web

from tests.fakes.openai_state import (
    RECORD,
    ApiError,
    Json,
    StoredFile,
    UploadPartState,
    UploadState,
    body_json,
    fake_of,
    list_page,
    new_file_id,
    new_id,
    not_found,
    now,
    required,
)

if TYPE_CHECKING:
    from tests.fakes.openai_server import FakeOpenAI

MAX_PART_BYTES = 64 * 1024 * 1024
MAX_UPLOAD_BYTES = 8 * 1024**3
FILE_PURPOSES = {"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}
CHUNK = 256 * 1024


# ---------------------------------------------------------------- multipart streaming


@dataclass
class SavedPart:
    filename: str
    size: int
    path: Path


async def read_multipart(
    request: web.Request, *, file_field: str, dest: Path, max_bytes: int | None = None
) -> tuple[dict[str, str], SavedPart | None]:
    """Stream a multipart body: ``file_field`` goes to ``dest`` on disk, other fields to a dict.

    A file over ``max_bytes`` is drained (not stored) and raises ApiError 400 afterwards.
    """
    fields: dict[str, str] = {}
    saved: SavedPart | None = None
    total = 0
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == file_field:
            size = await _stream_to_disk(part, dest, max_bytes=max_bytes)
            total += size
            saved = SavedPart(filename=part.filename or "upload", size=size, path=dest)
        else:
            value = await part.text()
            total += len(value.encode())
            fields[part.name or ""] = value
    request[RECORD].body_size = request.content_length or total
    if saved is not None and max_bytes is not None and saved.size > max_bytes:
        raise ApiError(
            400,
            f"Part size exceeds the maximum of {max_bytes} bytes.",
            param=file_field,
        )
    return fields, saved


async def _stream_to_disk(part: BodyPartReader, dest: Path, *, max_bytes: int | None) -> int:
    """Write the part's chunks to ``dest``; past ``max_bytes`` keep counting but stop writing."""
    size = 0
    out: IO[bytes] = await asyncio.to_thread(dest.open, "wb")
    try:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if max_bytes is None or size <= max_bytes:
                await asyncio.to_thread(out.write, chunk)
    finally:
        await asyncio.to_thread(out.close)
    if max_bytes is not None and size > max_bytes:
        await asyncio.to_thread(dest.unlink)
    return size


# ---------------------------------------------------------------- files


def stored_file(fake: FakeOpenAI, file_id: str) -> StoredFile:
    file = fake.files.get(file_id)
    if file is None:
        raise ApiError(404, f"No such File object: {file_id}", param="id")
    return file


async def create_file(request: web.Request) -> web.Response:
    fake = fake_of(request)
    file_id = new_file_id()
    fields, saved = await read_multipart(
        request, file_field="file", dest=fake.tmp_dir / "files" / file_id
    )
    if saved is None:
        raise ApiError(400, "Missing required parameter: 'file'.", param="file")
    purpose = fields.get("purpose")
    if purpose not in FILE_PURPOSES:
        saved.path.unlink(missing_ok=True)
        raise ApiError(400, f"Invalid value for 'purpose': {purpose!r}.", param="purpose")
    expires_at = None
    if "expires_after[seconds]" in fields:
        if fields.get("expires_after[anchor]") != "created_at":
            raise ApiError(400, "Invalid value for 'expires_after.anchor'.")
        seconds = int(fields["expires_after[seconds]"])
        if not 3600 <= seconds <= 2_592_000:
            raise ApiError(400, "expires_after.seconds must be between 3600 and 2592000.")
        expires_at = now() + seconds
    file = StoredFile(
        id=file_id,
        filename=saved.filename,
        purpose=purpose,
        bytes=saved.size,
        path=saved.path,
        expires_at=expires_at,
    )
    fake.files[file_id] = file
    return web.json_response(file.to_json())


async def list_files(request: web.Request) -> web.Response:
    files = [f.to_json() for f in fake_of(request).files.values()]
    query = dict(request.query)
    query.setdefault("limit", "100")
    return web.json_response(list_page(files, query=query))


async def retrieve_file(request: web.Request) -> web.Response:
    file = stored_file(fake_of(request), request.match_info["file_id"])
    return web.json_response(file.to_json())


async def file_content(request: web.Request) -> web.StreamResponse:
    file = stored_file(fake_of(request), request.match_info["file_id"])
    return web.FileResponse(file.path, headers={"content-type": "application/octet-stream"})


async def delete_file(request: web.Request) -> web.Response:
    fake = fake_of(request)
    file = stored_file(fake, request.match_info["file_id"])
    del fake.files[file.id]
    file.path.unlink(missing_ok=True)
    return web.json_response({"id": file.id, "object": "file", "deleted": True})


# ---------------------------------------------------------------- uploads


def _expiry_seconds(expires_after: object) -> int | None:
    """``expires_after`` of an upload (JSON): the file it becomes expires that long after."""
    if expires_after is None:
        return None
    if not isinstance(expires_after, dict) or expires_after.get("anchor") != "created_at":
        raise ApiError(400, "Invalid value for 'expires_after.anchor'.", param="expires_after")
    seconds = expires_after.get("seconds")
    if not isinstance(seconds, int) or not 3600 <= seconds <= 2_592_000:
        raise ApiError(400, "expires_after.seconds must be between 3600 and 2592000.")
    return seconds


def pending_upload(fake: FakeOpenAI, upload_id: str) -> UploadState:
    upload = fake.uploads.get(upload_id)
    if upload is None:
        raise not_found("Upload", upload_id)
    if upload.status != "pending":
        raise ApiError(400, f"Upload {upload_id} is already {upload.status}.")
    return upload


async def create_upload(request: web.Request) -> web.Response:
    body = body_json(request)
    declared = required(body, "bytes")
    purpose = required(body, "purpose")
    if purpose not in FILE_PURPOSES:
        raise ApiError(400, f"Invalid value for 'purpose': {purpose!r}.", param="purpose")
    if not isinstance(declared, int) or not 0 < declared <= MAX_UPLOAD_BYTES:
        raise ApiError(400, "bytes must be between 1 and 8 GB.", param="bytes")
    upload = UploadState(
        id=new_id("upload_", hex_chars=24),
        filename=required(body, "filename"),
        purpose=purpose,
        mime_type=required(body, "mime_type"),
        bytes=declared,
        expires_after_s=_expiry_seconds(body.get("expires_after")),
    )
    fake = fake_of(request)
    (fake.tmp_dir / "uploads" / upload.id).mkdir(parents=True)
    fake.uploads[upload.id] = upload
    return web.json_response(upload.to_json())


async def add_upload_part(request: web.Request) -> web.Response:
    fake = fake_of(request)
    upload = pending_upload(fake, request.match_info["upload_id"])
    part_id = new_id("part_", hex_chars=24)
    _, saved = await read_multipart(
        request,
        file_field="data",
        dest=fake.tmp_dir / "uploads" / upload.id / part_id,
        max_bytes=MAX_PART_BYTES,
    )
    if saved is None:
        raise ApiError(400, "Missing required parameter: 'data'.", param="data")
    part = UploadPartState(id=part_id, upload_id=upload.id, size=saved.size, path=saved.path)
    upload.parts[part_id] = part
    fake.upload_parts.append(saved.size)
    return web.json_response(part.to_json())


async def complete_upload(request: web.Request) -> web.Response:
    fake = fake_of(request)
    upload = pending_upload(fake, request.match_info["upload_id"])
    body = body_json(request)
    part_ids = required(body, "part_ids")
    unknown = [p for p in part_ids if p not in upload.parts]
    if unknown:
        raise ApiError(400, f"Invalid part_ids: {', '.join(unknown)}.", param="part_ids")
    parts = [upload.parts[p] for p in part_ids]
    received = sum(p.size for p in parts)
    if received != upload.bytes:
        raise ApiError(
            400,
            f"The number of bytes uploaded ({received}) does not match the number of bytes "
            f"specified at creation ({upload.bytes}).",
            param="part_ids",
        )
    file_id = new_file_id()
    dest = fake.tmp_dir / "files" / file_id
    digest = await asyncio.to_thread(_concatenate, [p.path for p in parts], dest)
    md5 = body.get("md5")
    if md5 and md5 != digest:
        dest.unlink()
        raise ApiError(400, "The md5 checksum does not match the uploaded bytes.", param="md5")
    file = StoredFile(
        id=file_id, filename=upload.filename, purpose=upload.purpose, bytes=received, path=dest
    )
    if upload.expires_after_s is not None:
        file.expires_at = file.created_at + upload.expires_after_s
    fake.files[file_id] = file
    upload.file = file
    upload.status = "completed"
    return web.json_response(upload.to_json())


def _concatenate(sources: list[Path], dest: Path) -> str:
    digest = hashlib.md5()
    with dest.open("wb") as out:
        for source in sources:
            with source.open("rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    return digest.hexdigest()


async def cancel_upload(request: web.Request) -> web.Response:
    upload = pending_upload(fake_of(request), request.match_info["upload_id"])
    upload.status = "cancelled"
    for part in upload.parts.values():
        part.path.unlink(missing_ok=True)
    return web.json_response(upload.to_json())


# ---------------------------------------------------------------- models


MODELS = ("gpt-5.6", "gpt-5.5", "gpt-5.4", "gpt-4.1")


def _model_json(model_id: str) -> Json:
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "openai"}


async def list_models(request: web.Request) -> web.Response:
    return web.json_response({"object": "list", "data": [_model_json(m) for m in MODELS]})


async def retrieve_model(request: web.Request) -> web.Response:
    model_id = request.match_info["model"]
    if model_id not in MODELS:
        raise ApiError(
            404,
            f"The model '{model_id}' does not exist or you do not have access to it.",
            code="model_not_found",
            param="model",
        )
    return web.json_response(_model_json(model_id))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/files", create_file)
    app.router.add_get("/v1/files", list_files)
    app.router.add_get("/v1/files/{file_id}", retrieve_file)
    app.router.add_get("/v1/files/{file_id}/content", file_content)
    app.router.add_delete("/v1/files/{file_id}", delete_file)
    app.router.add_post("/v1/uploads", create_upload)
    app.router.add_post("/v1/uploads/{upload_id}/parts", add_upload_part)
    app.router.add_post("/v1/uploads/{upload_id}/complete", complete_upload)
    app.router.add_post("/v1/uploads/{upload_id}/cancel", cancel_upload)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model}", retrieve_model)
