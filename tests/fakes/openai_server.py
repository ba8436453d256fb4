"""A fake OpenAI API on 127.0.0.1 for tests that drive the real ``openai`` SDK over HTTP.

    async with FakeOpenAI() as fake:
        client = AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key)

Shapes follow reference/openai-openapi.yml and the SDK's pydantic models (only keys those
models define are sent; tests/test_fake_openai_shapes.py checks it). File contents are kept
on disk in a temporary directory, and request bodies are streamed there chunk by chunk.
Modules: openai_files (files, uploads, models), openai_containers, openai_conversations,
openai_responses (endpoints) + openai_runs (a run and its events), openai_model (the
scripted model and its exact answer format), openai_state (objects and their JSON).

Endpoints (all under /v1, bearer key required; every answer carries ``x-request-id``):
    files:          POST /files (multipart file, purpose, expires_after[...]), GET /files,
                    GET|DELETE /files/{id}, GET /files/{id}/content
    uploads:        POST /uploads, POST /uploads/{id}/parts (multipart ``data``, at most
                    64 MB each), POST /uploads/{id}/complete ({part_ids, md5?}; 400 when the
                    bytes differ from the declared size), POST /uploads/{id}/cancel
    containers:     POST|GET /containers, GET|DELETE /containers/{id},
                    POST|GET /containers/{id}/files (JSON {file_id} or multipart ``file``;
                    user files land at ``/mnt/data/<32 hex>-<filename>``),
                    GET|DELETE /containers/{id}/files/{fid}, GET .../{fid}/content
    conversations:  POST /conversations, GET|POST|DELETE /conversations/{id},
                    GET|POST /conversations/{id}/items
    responses:      POST /responses, GET /responses/{id}[?stream=true&starting_after=N],
                    POST /responses/{id}/cancel, DELETE /responses/{id}
    models:         GET /models, GET /models/{id}

Errors use the envelope {"error": {"message", "type", "param", "code"}}:
    401 invalid_api_key            bearer key other than ``api_key``
    404                            unknown id ("No such File object: file-…", "Container with
                                   id 'cntr_…' not found.", "Response with id … not found.")
    400 "Container is expired."    any container operation (files, responses) on an expired one
    400 param="conversation"       a response in a conversation whose code_interpreter_call
                                   items use an expired/deleted container; message
                                   "Container cntr_… is expired; the conversation conv_… refers
                                   to it in item ci_…. Start a new conversation or remove the
                                   items that use it."
    400                            cancel of a non-background response ("Responses can only be
                                   cancelled if they were created with background=true.")

Responses: every run is a server-side task, independent of the connection that started it.
Stream events (``event: <type>\\ndata: <json>\\n\\n``, ``sequence_number`` 0, 1, 2, …):
    response.created (status "queued" if background else "in_progress"), response.in_progress,
    [if the model wrote code] response.output_item.added (code_interpreter_call),
    response.code_interpreter_call.in_progress, response.code_interpreter_call_code.delta ×≤4,
    response.code_interpreter_call_code.done, response.code_interpreter_call.interpreting,
    response.code_interpreter_call.completed, response.output_item.done (``outputs`` =
    [{"type": "logs", "logs": …}] only with include=["code_interpreter_call.outputs"]),
    response.output_item.added (message), response.content_part.added,
    response.output_text.delta ×≤10, response.output_text.annotation.added (one per cited
    artifact: container_file_citation spanning ``sandbox:/mnt/data/…`` in the text),
    response.output_text.done, response.content_part.done, response.output_item.done,
    response.completed (with usage) | response.incomplete (max_output_tokens too small).
A failure (``fail_next_response`` or a ModelResult.failure) ends with response.failed right
after the code item (no message item). A cancelled run's stream just ends. On completion the
input items and output items are appended to the conversation. No ``obfuscation`` fields.
Background POST without stream answers the snapshot at once (status "queued"); a foreground
POST without stream waits for the end. Cancel on a finished background response returns it
unchanged.

Control API:
    FakeOpenAI(*, api_key="sk-test-fake", model=default_model, latency_s=0.0,
               event_delay_s=0.0, run_delay_s=0.0)   all of them also settable later
    await start() / await stop(); ``async with FakeOpenAI() as fake``
    base_url: str                   "http://127.0.0.1:<port>/v1"
    api_key: str
    requests: list[RecordedRequest]  method, path, query, json, body_size, headers
    requests_to(method, path_prefix) -> list[RecordedRequest]
    model: ScriptedModel            Callable[[ModelContext], ModelResult]; default_model (see
                                    tests/fakes/openai_model.py for its exact answer format)
    model_calls: list[ModelContext]  what the model saw for each run (instructions, input,
                                    tools, question, container files, history_length)
    emitted: list[dict]             every SSE event written to any client, as sent
    latency_s, event_delay_s, run_delay_s: float (default 0)
    echo_key_in_errors: bool        a 401 quotes the presented key whole, as some proxies do
    refuse_container_uploads: bool  uploading a file's bytes straight into a container (not
                                    by file_id) is answered 400
    fail_next(method, path_prefix, *, status, code=None, message=None, retry_after=None,
              times=1)              the next ``times`` requests whose path starts with the
                                    prefix get this error (after the key check); message
                                    defaults to a realistic text for the status/code; type
                                    is "requests" (429), "insufficient_quota" (that code),
                                    "server_error" (5xx) or "invalid_request_error"; the
                                    answer carries ``retry-after: <retry_after:g>`` if given
    fail_next_response(*, code="server_error", message=...)
    cut_next_stream_after(n_events, *, abrupt=True)   the next SSE stream (create or
                                    retrieve) stops after n events: the connection is
                                    dropped mid-body (abrupt) or the body just ends
    expire_container(container_id)  status "expired", its files' data discarded
    deletes_held: asyncio.Event | None  while set to an unset Event, every DELETE waits for
                                    it (after being recorded): a purge caught half-way
    deletes_seen: asyncio.Event     set at every DELETE request (tests wait on it)
    file_bytes(file_id) -> bytes;  container_file_bytes(container_id, file_id) -> bytes
    container_files_named(name)     container files of that name (``content_requests``
                                    counts reads of their content; ``virtual`` ones are
                                    made up as they are read, see ModelArtifact.size)
    files, uploads, containers, conversations, responses: dict[id, state object]
    upload_parts: list[int]         sizes of every upload part received, in order
    tmp_dir: Path
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.fakes import openai_containers, openai_conversations, openai_files, openai_responses
from tests.fakes.openai_model import (
    ModelArtifact,
    ModelContext,
    ModelFailure,
    ModelFile,
    ModelResult,
    ScriptedModel,
    default_model,
)
from tests.fakes.openai_runs import ResponseRun
from tests.fakes.openai_state import (
    FAKE_KEY,
    JSON_BODY,
    RECORD,
    REQUEST_ID,
    ApiError,
    ContainerFileState,
    ContainerState,
    ConversationState,
    Json,
    RecordedRequest,
    StoredFile,
    UploadState,
)

__all__ = [
    "FakeOpenAI",
    "ModelArtifact",
    "ModelContext",
    "ModelFailure",
    "ModelFile",
    "ModelResult",
    "RecordedRequest",
    "ScriptedModel",
    "default_model",
]

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_DEFAULT_MESSAGES = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("invalid_request_error", "Incorrect API key provided."),
    403: ("invalid_request_error", "You are not allowed to perform this request."),
    404: ("invalid_request_error", "Not found."),
    409: ("invalid_request_error", "Conflict."),
    429: ("requests", "Rate limit reached for requests. Please try again later."),
    500: (
        "server_error",
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", "Bad gateway."),
    503: ("server_error", "The engine is currently overloaded, please try again later."),
}
_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)


@dataclass
class Fault:
    method: str
    path_prefix: str
    status: int
    code: str | None
    message: str | None
    retry_after: float | None
    remaining: int

    def error(self) -> ApiError:
        type_, default = _DEFAULT_MESSAGES.get(self.status, ("server_error", "Error."))
        if self.code == "insufficient_quota":
            type_, default = "insufficient_quota", _QUOTA_MESSAGE
        headers = {}
        if self.retry_after is not None:
            headers["retry-after"] = f"{self.retry_after:g}"
        return ApiError(
            self.status, self.message or default, type=type_, code=self.code, headers=headers
        )


@dataclass
class StreamCut:
    n_events: int
    abrupt: bool


@dataclass(kw_only=True)
class FakeOpenAI:
    api_key: str = "sk-test-fake"
    model: ScriptedModel = default_model
    latency_s: float = 0.0
    event_delay_s: float = 0.0
    run_delay_s: float = 0.0
    # Some OpenAI-compatible proxies quote the whole presented key in their 401 message.
    echo_key_in_errors: bool = False
    refuse_container_uploads: bool = False
    # Usage details a finished response reports (cached part of input, reasoning of output).
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    model_calls: list[ModelContext] = field(default_factory=list)
    emitted: list[Json] = field(default_factory=list)
    files: dict[str, StoredFile] = field(default_factory=dict)
    uploads: dict[str, UploadState] = field(default_factory=dict)
    containers: dict[str, ContainerState] = field(default_factory=dict)
    conversations: dict[str, ConversationState] = field(default_factory=dict)
    responses: dict[str, ResponseRun] = field(default_factory=dict)
    upload_parts: list[int] = field(default_factory=list)
    base_url: str = field(default="", init=False)
    tmp_dir: Path = field(default_factory=Path, init=False)
    deletes_held: asyncio.Event | None = None
    deletes_seen: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)
    _faults: list[Fault] = field(default_factory=list, init=False, repr=False)
    _response_failures: list[ModelFailure] = field(default_factory=list, init=False, repr=False)
    _stream_cuts: list[StreamCut] = field(default_factory=list, init=False, repr=False)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set, init=False, repr=False)
    _runner: web.AppRunner | None = field(default=None, init=False, repr=False)

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and create the temporary directory for file bytes."""
        self.tmp_dir = Path(tempfile.mkdtemp(prefix="fake-openai-"))
        for sub in ("files", "uploads", "containers", "incoming"):
            (self.tmp_dir / sub).mkdir()
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app[FAKE_KEY] = self
        for module in (openai_files, openai_containers, openai_conversations, openai_responses):
            module.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"

    async def stop(self) -> None:
        """Cancel running responses, close the server and delete the stored bytes."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------ control API

    def requests_to(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == method.upper() and r.path.startswith(path_prefix)
        ]

    def fail_next(
        self,
        method: str,
        path_prefix: str,
        *,
        status: int,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests matching method and path prefix get this error."""
        self._faults.append(
            Fault(method.upper(), path_prefix, status, code, message, retry_after, times)
        )

    def fail_next_response(
        self, *, code: str = "server_error", message: str = "The model failed to respond."
    ) -> None:
        """The next created response ends with response.failed after its code item."""
        self._response_failures.append(ModelFailure(code=code, message=message))

    def cut_next_stream_after(self, n_events: int, *, abrupt: bool = True) -> None:
        """The next SSE stream stops after ``n_events`` events; the run itself goes on."""
        self._stream_cuts.append(StreamCut(n_events, abrupt))

    def expire_container(self, container_id: str) -> None:
        container = self.containers[container_id]
        container.status = "expired"
        for file in container.files.values():
            file.disk_path.unlink(missing_ok=True)

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id].path.read_bytes()

    def container_file_bytes(self, container_id: str, file_id: str) -> bytes:
        return self.containers[container_id].files[file_id].disk_path.read_bytes()

    def container_files_named(self, name: str) -> list[ContainerFileState]:
        """Every container file called ``name`` (without the hash prefix), oldest first."""
        return [f for c in self.containers.values() for f in c.files.values() if f.name == name]

    def take_forced_failure(self) -> ModelFailure | None:
        return self._response_failures.pop(0) if self._response_failures else None

    def take_stream_cut(self) -> StreamCut | None:
        return self._stream_cuts.pop(0) if self._stream_cuts else None

    # ------------------------------------------------------------ HTTP plumbing

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method and path.startswith(fault.path_prefix):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = "req_" + secrets.token_hex(16)
        request[REQUEST_ID] = request_id
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            json=None,
            body_size=request.content_length or 0,
            headers={k.lower(): v for k, v in request.headers.items()},
            request_id=request_id,
        )
        request[RECORD] = record
        self.requests.append(record)
        try:
            if request.content_type == "application/json" and request.can_read_body:
                record.json, record.body_size = await _read_json(request)
                if record.json is not None:
                    request[JSON_BODY] = record.json
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if request.method == "DELETE":
                self.deletes_seen.set()
                if self.deletes_held is not None:
                    await self.deletes_held.wait()
            self._authenticate(request)
            fault = self._take_fault(request.method, request.path)
            if fault is not None:
                raise fault.error()
            response = await handler(request)
        except ApiError as exc:
            response = exc.to_response()
        except web.HTTPException as exc:
            response = _http_error(exc, request)
        except ConnectionResetError:
            # The client went away mid-stream (as real clients do); nothing to answer.
            raise
        except Exception:
            log.exception("fake OpenAI handler crashed on %s %s", request.method, request.path)
            response = ApiError(500, _DEFAULT_MESSAGES[500][1], type="server_error").to_response()
        record.status = response.status
        if not response.prepared:
            response.headers["x-request-id"] = request_id
            response.headers.setdefault("openai-version", "2020-10-01")
        return response

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("authorization", "")
        if not header:
            raise ApiError(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if header != f"Bearer {self.api_key}":
            presented = header.removeprefix("Bearer ")
            quoted = f": {presented}" if self.echo_key_in_errors else ""
            raise ApiError(
                401,
                f"Incorrect API key provided{quoted}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )


async def _read_json(request: web.Request) -> tuple[Json | None, int]:
    raw = await request.read()
    if not raw:
        return None, 0
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "We could not parse the JSON body of your request.") from exc
    return (body if isinstance(body, dict) else None), len(raw)


def _http_error(exc: web.HTTPException, request: web.Request) -> web.Response:
    if exc.status == 404:
        message = f"Invalid URL ({request.method} {request.path})"
    elif exc.status == 405:
        message = f"Invalid method for URL ({request.method} {request.path})"
    else:
        message = exc.reason
    return ApiError(exc.status, message).to_response()
