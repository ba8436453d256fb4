"""Containers and container files of the fake OpenAI server.

User files get a hash-prefixed path like the spec's example
(``/mnt/data/88e12fa445d32636f190a0b33daed6cb-tsconfig.json``): a random 32-hex prefix, so a
client has to read the path back. An expired container keeps its metadata (status
"expired") and refuses everything else with 400 "Container is expired.".
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from tests.fakes.openai_files import read_multipart, stored_file
from tests.fakes.openai_state import (
    REQUEST_ID,
    ApiError,
    ContainerFileState,
    ContainerState,
    Json,
    VirtualContent,
    body_json,
    fake_of,
    list_page,
    new_id,
    required,
)

if TYPE_CHECKING:
    from tests.fakes.openai_server import FakeOpenAI

MEMORY_LIMITS = {"1g", "4g", "16g", "64g"}


def live_container(fake: FakeOpenAI, container_id: str) -> ContainerState:
    """The container, refreshed; 404 if unknown or deleted, 400 "Container is expired." if so."""
    container = fake.containers.get(container_id)
    if container is None or container.deleted:
        raise ApiError(404, f"Container with id '{container_id}' not found.", param="container_id")
    if container.expired:
        raise ApiError(400, "Container is expired.", param="container_id")
    container.touch()
    return container


def new_container(
    fake: FakeOpenAI,
    *,
    name: str,
    memory_limit: str = "1g",
    minutes: int = 20,
    network_policy: Json | None = None,
) -> ContainerState:
    container_id = new_id("cntr_")
    disk_dir = fake.tmp_dir / "containers" / container_id
    disk_dir.mkdir(parents=True)
    container = ContainerState(
        id=container_id,
        name=name,
        memory_limit=memory_limit,
        expires_minutes=minutes,
        disk_dir=disk_dir,
        network_policy=network_policy,
    )
    fake.containers[container_id] = container
    return container


async def add_container_file(
    container: ContainerState,
    *,
    name: str,
    source: str,
    src: Path | bytes | VirtualContent,
    path: str | None = None,
    declared_bytes: int | None = None,
) -> ContainerFileState:
    """Copy ``src`` into the container; user files get a hash-prefixed path like the real API.

    VirtualContent is not stored at all: it is made up when the content is read.
    ``declared_bytes`` makes the file list lie about the size.
    """
    file_id = new_id("cfile_", hex_chars=32)
    disk_path = container.disk_dir / file_id
    virtual: VirtualContent | None = None
    if isinstance(src, VirtualContent):
        virtual, size = src, src.size
    elif isinstance(src, bytes):
        await asyncio.to_thread(disk_path.write_bytes, src)
        size = len(src)
    else:
        await asyncio.to_thread(shutil.copyfile, src, disk_path)
        size = disk_path.stat().st_size
    if path is None:
        path = f"/mnt/data/{uuid.uuid4().hex}-{name}"
    file = ContainerFileState(
        id=file_id,
        container_id=container.id,
        path=path,
        name=name,
        source=source,
        bytes=size if declared_bytes is None else declared_bytes,
        disk_path=disk_path,
        virtual=virtual,
    )
    container.files[file_id] = file
    return file


async def create_container(request: web.Request) -> web.Response:
    fake = fake_of(request)
    body = body_json(request)
    name = required(body, "name")
    memory_limit = body.get("memory_limit") or "1g"
    if memory_limit not in MEMORY_LIMITS:
        raise ApiError(
            400, f"Invalid value for 'memory_limit': {memory_limit!r}.", param="memory_limit"
        )
    expires_after = body.get("expires_after") or {}
    minutes = expires_after.get("minutes", 20)
    if expires_after and expires_after.get("anchor") != "last_active_at":
        raise ApiError(
            400, "Invalid value for 'expires_after.anchor'.", param="expires_after.anchor"
        )
    if not isinstance(minutes, int) or not 1 <= minutes <= 20:
        raise ApiError(
            400,
            f"Invalid 'expires_after.minutes': integer above maximum value. Expected a value "
            f"<= 20, but got {minutes} instead.",
            param="expires_after.minutes",
            code="integer_above_max_value",
        )
    files = [stored_file(fake, file_id) for file_id in body.get("file_ids") or []]
    container = new_container(
        fake,
        name=name,
        memory_limit=memory_limit,
        minutes=minutes,
        network_policy=body.get("network_policy"),
    )
    for file in files:
        await add_container_file(container, name=file.filename, source="user", src=file.path)
    return web.json_response(container.to_json())


async def list_containers(request: web.Request) -> web.Response:
    containers = [c.to_json() for c in fake_of(request).containers.values() if not c.deleted]
    return web.json_response(list_page(containers, query=dict(request.query)))


async def retrieve_container(request: web.Request) -> web.Response:
    container = fake_of(request).containers.get(request.match_info["container_id"])
    if container is None or container.deleted:
        raise ApiError(404, f"Container with id '{request.match_info['container_id']}' not found.")
    if not container.expired:
        container.touch()
    return web.json_response(container.to_json())


async def delete_container(request: web.Request) -> web.Response:
    container = fake_of(request).containers.get(request.match_info["container_id"])
    if container is None or container.deleted:
        raise ApiError(404, f"Container with id '{request.match_info['container_id']}' not found.")
    container.deleted = True
    shutil.rmtree(container.disk_dir, ignore_errors=True)
    return web.json_response({"id": container.id, "object": "container.deleted", "deleted": True})


async def create_container_file(request: web.Request) -> web.Response:
    fake = fake_of(request)
    container = live_container(fake, request.match_info["container_id"])
    if request.content_type.startswith("multipart/"):
        if fake.refuse_container_uploads:
            raise ApiError(400, "File upload is not available for this container.", param="file")
        dest = fake.tmp_dir / "incoming" / uuid.uuid4().hex
        _, saved = await read_multipart(request, file_field="file", dest=dest)
        if saved is None:
            raise ApiError(400, "Missing required parameter: 'file'.", param="file")
        file = await add_container_file(
            container, name=saved.filename, source="user", src=saved.path
        )
        saved.path.unlink()
    else:
        stored = stored_file(fake, required(body_json(request), "file_id"))
        file = await add_container_file(
            container, name=stored.filename, source="user", src=stored.path
        )
    return web.json_response(file.to_json())


def container_file(request: web.Request) -> ContainerFileState:
    container = live_container(fake_of(request), request.match_info["container_id"])
    file = container.files.get(request.match_info["file_id"])
    if file is None:
        raise ApiError(404, f"Container file with id '{request.match_info['file_id']}' not found.")
    return file


async def list_container_files(request: web.Request) -> web.Response:
    container = live_container(fake_of(request), request.match_info["container_id"])
    files = [f.to_json() for f in container.files.values()]
    return web.json_response(list_page(files, query=dict(request.query)))


async def retrieve_container_file(request: web.Request) -> web.Response:
    return web.json_response(container_file(request).to_json())


async def container_file_content(request: web.Request) -> web.StreamResponse:
    file = container_file(request)
    file.content_requests += 1
    if file.virtual is None:
        return web.FileResponse(
            file.disk_path, headers={"content-type": "application/octet-stream"}
        )
    # Made up and sent chunk by chunk: the fake never holds the file either.
    response = web.StreamResponse(
        headers={
            "content-type": "application/octet-stream",
            "x-request-id": request[REQUEST_ID],
        }
    )
    response.content_length = file.virtual.size
    await response.prepare(request)
    for chunk in file.virtual.chunks():
        await response.write(chunk)
    await response.write_eof()
    return response


async def delete_container_file(request: web.Request) -> web.Response:
    file = container_file(request)
    del fake_of(request).containers[file.container_id].files[file.id]
    file.disk_path.unlink(missing_ok=True)
    return web.json_response({"id": file.id, "object": "container.file.deleted", "deleted": True})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/containers", create_container)
    app.router.add_get("/v1/containers", list_containers)
    app.router.add_get("/v1/containers/{container_id}", retrieve_container)
    app.router.add_delete("/v1/containers/{container_id}", delete_container)
    app.router.add_post("/v1/containers/{container_id}/files", create_container_file)
    app.router.add_get("/v1/containers/{container_id}/files", list_container_files)
    app.router.add_get("/v1/containers/{container_id}/files/{file_id}", retrieve_container_file)
    app.router.add_delete("/v1/containers/{container_id}/files/{file_id}", delete_container_file)
    app.router.add_get(
        "/v1/containers/{container_id}/files/{file_id}/content", container_file_content
    )
