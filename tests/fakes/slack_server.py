"""A fake Slack on 127.0.0.1 for the real slack_sdk / Bolt clients.

Serves the Web API (``/api/<method>``, JSON, form or query encodings, Bearer or ``token``
argument), upload URLs, private file URLs (bytes with the bot token; otherwise a 302 to an
HTML login page, as Slack does), and a Socket Mode WebSocket (``/link``) opened through
``apps.connections.open``. State and the control/view API are in ``slack_world``; the
methods in ``slack_methods`` and ``slack_files``.

Usage::

    async with FakeSlack() as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import WSMsgType, web

from tests.fakes.slack_methods import METHODS, WebMethods
from tests.fakes.slack_payloads import interactive_form_body
from tests.fakes.slack_state import (
    ApiCall,
    ApiError,
    DownloadRecord,
    FileRecord,
    Injection,
    SeenMessage,
    UploadedFileRecord,
    UploadPost,
)

# Tests import the records from here too.
__all__ = ["ApiCall", "FakeSlack", "FileRecord", "SeenMessage", "UploadPost", "UploadedFileRecord"]

LOGIN_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Slack</title></head>'
    '<body><h1>Sign in to Fake Workspace</h1><form action="/signin" method="post">'
    '<input name="email"><button>Sign in with email</button></form></body></html>'
)
MAX_BODY = 1 << 20  # Web API bodies; upload bodies are streamed to disk, whatever their size


class FakeSlack(WebMethods):
    """The fake Slack server: ``await start()`` / ``await stop()`` or ``async with``."""

    def __init__(self, *, scopes: Sequence[str] | None = None) -> None:
        super().__init__(scopes=scopes)
        self.socket_acks: list[dict[str, Any]] = []  # every message a client sent us
        self.socket_connects = 0
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._pending_acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._socket_ready: asyncio.Event | None = None

    # ------------------------------------------------------------ lifecycle

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    async def start(self) -> None:
        """Bind a free port on 127.0.0.1 and serve."""
        self._socket_ready = asyncio.Event()
        self.tmp_dir = Path(tempfile.mkdtemp(prefix="fake-slack-"))
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/v1/{token}", self._upload)
        app.router.add_get("/files-pri/{team_file}/download/{name:.*}", self._download)
        app.router.add_get("/files-pri/{team_file}/{name:.*}", self._download)
        app.router.add_get("/files/{user}/{file_id}/{name:.*}", self._html_page)
        app.router.add_get("/", self._html_page)
        app.router.add_get("/link", self._link)
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Close Socket Mode connections and the server."""
        for future in self._pending_acks.values():
            future.cancel()
        for ws in list(self._sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------- web API

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, token = await _read_args(request)
        headers = dict(request.headers)
        self.calls.append(ApiCall(method, args, headers, time.time(), token, request.method))
        injection = await self._delay(method)
        if method not in METHODS:
            body = {"ok": False, "error": "unknown_method", "req_method": method}
            return web.json_response(body, status=404)
        try:
            if injection is not None:
                raise _injected_error(injection)
            self.authorize(method, token, args)
            handler = getattr(self, METHODS[method][0])
            result = {"ok": True, **handler(args)}
            return self._json(result, method=method, token=token)
        except ApiError as e:
            return self._json(
                e.body(), method=method, token=token, status=e.status, extra=e.headers
            )

    async def _delay(self, method: str) -> Injection | None:
        """Sleep for latency and queued delays; return a queued failure, if any."""
        injection = self.take_injection(method)
        delay = self.latency_s + (injection.delay_s if injection else 0.0)
        if delay:
            await asyncio.sleep(delay)
        return injection if injection is not None and injection.status else None

    def _json(
        self,
        body: dict[str, Any],
        *,
        method: str,
        token: str | None,
        status: int = 200,
        extra: dict[str, str] | None = None,
    ) -> web.Response:
        headers = dict(extra or {})
        if token == self.bot_token:
            headers["x-oauth-scopes"] = ",".join(self.scopes)
            headers["x-accepted-oauth-scopes"] = METHODS[method][1] or ""
        return web.json_response(body, status=status, headers=headers)

    # --------------------------------------------------------------- files

    async def _upload(self, request: web.Request) -> web.Response:
        """An upload URL: the body is streamed to disk, counted and hashed, never held.

        404 for an unknown URL; 400 when the bytes differ from the ``length`` the upload was
        reserved with (the file then stays incomplete, so completing it fails)."""
        post = UploadPost(
            token=request.match_info["token"],
            headers={k.lower(): v for k, v in request.headers.items()},
        )
        self.upload_posts.append(post)
        injection = await self._delay("upload")
        if injection is not None:
            await request.release()
            post.status = injection.status
            return web.Response(status=injection.status, text=injection.error)
        record = self.upload_target(post.token)
        if record is None:
            await request.release()
            post.status = 404
            return web.Response(status=404, text="Not Found")
        path = self.tmp_dir / f"upload-{record.id}"
        post.received, post.sha256 = await _stream_to_disk(request, path)
        if post.received != record.declared_length:
            path.unlink(missing_ok=True)
            post.status = 400
            return web.Response(
                status=400,
                text=f"length mismatch: {post.received} bytes, {record.declared_length} declared",
            )
        self.receive_upload(record, path=path, sha256=post.sha256)
        post.status = 200
        return web.Response(text=f"OK - {post.received}")

    async def _download(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["team_file"].rsplit("-", 1)[-1]
        record = self.files.get(file_id)
        authorized = request.headers.get("Authorization") == f"Bearer {self.bot_token}"
        injection = await self._delay("download")
        status = 200
        response: web.StreamResponse
        if not authorized:
            # Slack sends unauthenticated requests to the workspace sign-in page.
            status = 302
            target = f"{self.base_url}/?redir={quote(request.path_qs)}"
            link = f'<a href="{target}">Found</a>.'
            response = web.Response(
                status=302, text=link, content_type="text/html", headers={"Location": target}
            )
        elif injection is not None:
            status = injection.status
            response = web.Response(status=status, text=injection.error)
        elif record is None or record.deleted or (record.by_bot and not record.completed):
            status = 404
            response = web.Response(status=404, text="File not found", content_type="text/html")
        else:
            response = _file_response(record, download="/download/" in request.path)
        self.downloads.append(DownloadRecord(file_id, authorized, status, time.time()))
        return response

    async def _html_page(self, request: web.Request) -> web.Response:
        return web.Response(text=LOGIN_PAGE, content_type="text/html")

    # ---------------------------------------------------------- Socket Mode

    async def _link(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self.socket_tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        self.socket_connects += 1
        await ws.send_str(json.dumps(self._hello()))
        assert self._socket_ready is not None
        self._socket_ready.set()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_client_message(msg.data)
        finally:
            self._sockets.remove(ws)
            if not self._sockets:
                self._socket_ready.clear()
        return ws

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {
                "host": "applink-fake-1",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _on_client_message(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        self.socket_acks.append(message)
        future = self._pending_acks.get(str(message.get("envelope_id")))
        if future is not None and not future.done():
            future.set_result(message)

    async def wait_for_socket(self, wait_s: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected (raises TimeoutError)."""
        assert self._socket_ready is not None, "start() first"
        await asyncio.wait_for(self._socket_ready.wait(), wait_s)

    async def send_socket_event(
        self,
        payload: dict[str, Any],
        *,
        envelope_type: str = "events_api",
        retry_attempt: int = 0,
        retry_reason: str = "",
        wait_s: float = 5.0,
    ) -> dict[str, Any] | None:
        """Send an envelope to the newest connection; return the client's ack or None.

        Waits ``wait_s`` for a connection (else raises TimeoutError) and as long for the ack.
        """
        await self.wait_for_socket(wait_s)
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": envelope_type == "slash_commands"
            or payload.get("type") in ("view_submission", "block_suggestion"),
        }
        if envelope_type == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending_acks[envelope_id] = future
        try:
            await self._sockets[-1].send_str(json.dumps(envelope))
            return await asyncio.wait_for(future, wait_s)
        except TimeoutError:
            return None
        finally:
            self._pending_acks.pop(envelope_id, None)

    async def send_socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask connected clients to reconnect, as Slack does before recycling a connection."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}}
        for ws in list(self._sockets):
            await ws.send_str(json.dumps(message))

    # ------------------------------------------------------------ HTTP mode

    def sign(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        """Signature headers for an HTTP delivery (v0 HMAC-SHA256 of "v0:ts:body")."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        base = f"v0:{ts}:{body}".encode()
        digest = hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": ts}

    async def deliver_http(
        self,
        url: str,
        payload: dict[str, Any],
        *,
        interactive: bool = False,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        timeout_s: float = 10.0,
    ) -> tuple[int, str]:
        """POST a signed event (JSON) or interaction (form ``payload=``) like Slack does.

        Returns (status, body text).
        """
        body = interactive_form_body(payload) if interactive else json.dumps(payload)
        headers = self.sign(body, timestamp)
        headers["Content-Type"] = (
            "application/x-www-form-urlencoded" if interactive else "application/json"
        )
        headers["User-Agent"] = "Slackbot 1.0 (+https://api.slack.com/robots)"
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        client_timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with (
            aiohttp.ClientSession(timeout=client_timeout) as session,
            session.post(url, data=body.encode(), headers=headers) as response,
        ):
            return response.status, await response.text()


async def _stream_to_disk(request: web.Request, path: Path) -> tuple[int, str]:
    """Write the request body to ``path`` chunk by chunk; return (bytes, sha256)."""
    digest = hashlib.sha256()
    received = 0
    with path.open("wb") as out:
        async for chunk in request.content.iter_chunked(1 << 20):
            received += len(chunk)
            digest.update(chunk)
            await asyncio.to_thread(out.write, chunk)
    return received, digest.hexdigest()


async def _read_args(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Merge query, form and JSON arguments; take the token from Bearer or ``token``."""
    args: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
    token = args.pop("token", None)
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        token = auth.removeprefix("Bearer ").strip()
    return args, token


def _injected_error(injection: Injection) -> ApiError:
    headers = {}
    if injection.retry_after is not None and injection.status != 200:
        headers["Retry-After"] = str(injection.retry_after)
    return ApiError(injection.error, status=injection.status, headers=headers)


def _file_response(record: FileRecord, *, download: bool) -> web.StreamResponse:
    headers = {"Content-Type": record.mimetype}
    if download:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(record.name)}"
    if record.path is not None and record.data is None:
        return web.FileResponse(record.path, headers=headers)
    return web.Response(body=record.content, headers=headers)
