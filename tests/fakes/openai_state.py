"""Objects the fake OpenAI server keeps, and the JSON it answers with for them.

Shapes follow the OpenAPI spec (reference/openai-openapi.yml) and the SDK's pydantic models;
only keys those models define are emitted. File contents live on disk, never in these objects.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import string
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.fakes.openai_server import FakeOpenAI

Json = dict[str, Any]
_ALNUM = string.ascii_letters + string.digits


@dataclass
class RecordedRequest:
    """One HTTP request the fake received (faulted ones included)."""

    method: str
    path: str
    query: dict[str, str]
    json: Json | None
    body_size: int
    headers: dict[str, str]  # lower-case names
    request_id: str = ""
    status: int | None = None


REQUEST_ID = web.RequestKey("request_id", str)
RECORD = web.RequestKey("record", RecordedRequest)
JSON_BODY = web.RequestKey("json_body", dict)
FAKE_KEY: web.AppKey[FakeOpenAI] = web.AppKey("fake_openai")


def now() -> int:
    return int(time.time())


def new_id(prefix: str, *, hex_chars: int = 48) -> str:
    return prefix + secrets.token_hex(hex_chars // 2)


def new_file_id() -> str:
    return "file-" + "".join(secrets.choice(_ALNUM) for _ in range(22))


class ApiError(Exception):
    """Raised by handlers; the middleware turns it into the OpenAI error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def envelope(self) -> Json:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def to_response(self) -> web.Response:
        return web.json_response(self.envelope(), status=self.status, headers=self.headers)


def fake_of(request: web.Request) -> FakeOpenAI:
    return request.app[FAKE_KEY]


def body_json(request: web.Request) -> Json:
    """The JSON body the middleware parsed; 400 when there is none."""
    body = request.get(JSON_BODY)
    if not isinstance(body, dict):
        raise ApiError(400, "We could not parse the JSON body of your request.")
    return body


def required(body: Json, name: str) -> Any:
    if body.get(name) is None:
        raise ApiError(
            400,
            f"Missing required parameter: '{name}'.",
            param=name,
            code="missing_required_parameter",
        )
    return body[name]


def not_found(kind: str, object_id: str) -> ApiError:
    return ApiError(404, f"No such {kind}: '{object_id}'.", param="id")


@dataclass
class StoredFile:
    """A Files-API file; its bytes are at ``path``."""

    id: str
    filename: str
    purpose: str
    bytes: int
    path: Path
    created_at: int = field(default_factory=now)
    expires_at: int | None = None

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
            "status_details": None,
        }


@dataclass
class UploadPartState:
    id: str
    upload_id: str
    size: int
    path: Path
    created_at: int = field(default_factory=now)

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "upload.part",
            "created_at": self.created_at,
            "upload_id": self.upload_id,
        }


@dataclass
class UploadState:
    id: str
    filename: str
    purpose: str
    mime_type: str
    bytes: int
    created_at: int = field(default_factory=now)
    status: str = "pending"
    parts: dict[str, UploadPartState] = field(default_factory=dict)
    file: StoredFile | None = None
    expires_after_s: int | None = None  # the file it becomes expires this long after creation

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "upload",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "expires_at": self.created_at + 3600,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": self.status,
            "file": self.file.to_json() if self.file else None,
        }


VIRTUAL_CHUNK = 1 << 20


@dataclass(frozen=True)
class VirtualContent:
    """A file's content made up chunk by chunk as it is read: a file of any size that takes
    neither disk nor memory. The same ``seed`` gives the same bytes every time."""

    size: int
    seed: int = 0

    def chunks(self) -> Iterator[bytes]:
        block = random.Random(self.seed).randbytes(VIRTUAL_CHUNK)
        index, left = 0, self.size
        while left > 0:
            n = min(VIRTUAL_CHUNK, left)
            # The chunk's number in front, so that no two chunks are the same.
            yield index.to_bytes(8, "big") + block[8:n] if n >= 8 else block[:n]
            index, left = index + 1, left - n

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()


@dataclass
class ContainerFileState:
    id: str
    container_id: str
    path: str  # the path inside the sandbox, e.g. /mnt/data/<hex>-sales.csv
    name: str  # the filename without the hash prefix
    source: str  # "user" | "assistant"
    bytes: int  # what the file list declares (a test may make it differ from the content)
    disk_path: Path
    created_at: int = field(default_factory=now)
    virtual: VirtualContent | None = None  # content made up on the fly instead of disk_path
    content_requests: int = 0  # GETs of .../content

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "container.file",
            "bytes": self.bytes,
            "container_id": self.container_id,
            "created_at": self.created_at,
            "path": self.path,
            "source": self.source,
        }


@dataclass
class ContainerState:
    id: str
    name: str
    memory_limit: str
    expires_minutes: int
    disk_dir: Path
    network_policy: Json | None = None
    created_at: int = field(default_factory=now)
    last_active_at: int = field(default_factory=now)
    status: str = "running"  # "running" | "expired"
    deleted: bool = False
    files: dict[str, ContainerFileState] = field(default_factory=dict)

    @property
    def expired(self) -> bool:
        return self.status == "expired"

    def touch(self) -> None:
        self.last_active_at = now()

    def to_json(self) -> Json:
        body: Json = {
            "id": self.id,
            "object": "container",
            "created_at": self.created_at,
            "status": self.status,
            "expires_after": {"anchor": "last_active_at", "minutes": self.expires_minutes},
            "last_active_at": self.last_active_at,
            "memory_limit": self.memory_limit,
            "name": self.name,
        }
        if self.network_policy is not None:
            body["network_policy"] = self.network_policy
        return body


@dataclass
class ConversationState:
    id: str
    metadata: dict[str, str]
    created_at: int = field(default_factory=now)
    items: list[Json] = field(default_factory=list)

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "object": "conversation",
            "created_at": self.created_at,
            "metadata": self.metadata,
        }


def list_page(items: list[Json], *, query: dict[str, str], default_order: str = "desc") -> Json:
    """A cursor page ({object, data, first_id, last_id, has_more}) over items sorted oldest first.

    ``first_id``/``last_id`` are null for an empty page (the spec types them as strings; the
    SDK builds pages without validating them).
    """
    order = query.get("order", default_order)
    ordered = list(reversed(items)) if order == "desc" else list(items)
    after = query.get("after")
    if after:
        ids = [item["id"] for item in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    try:
        limit = int(query.get("limit", "20"))
    except ValueError as exc:
        raise ApiError(400, "Invalid 'limit': expected an integer.", param="limit") from exc
    if not 1 <= limit <= 100:
        raise ApiError(
            400,
            f"Invalid 'limit': integer below minimum value or above maximum value, got {limit}.",
            param="limit",
        )
    page = ordered[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(ordered) > limit,
    }
