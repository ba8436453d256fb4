"""A server that is not Slack (Google Drive, an attacker's collector) on 127.0.0.1.

It records every request with its Authorization header and answers any GET with CSV bytes,
so a download that should never happen would succeed, and the test would see it.

Usage::

    async with ForeignHost() as foreign:
        url = foreign.url("/spreadsheets/d/1/export")
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

CSV = b"region,amount\nSeoul,100\n"


@dataclass(frozen=True)
class ForeignRequest:
    method: str
    path: str
    authorization: str | None


class ForeignHost:
    """``await start()`` / ``await stop()`` or ``async with``; ``requests`` lists what came."""

    def __init__(self) -> None:
        self.requests: list[ForeignRequest] = []
        self.base_url = "http://127.0.0.1:0"
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    @property
    def tokens_seen(self) -> list[str]:
        return [r.authorization for r in self.requests if r.authorization]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ForeignHost:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _any(self, request: web.Request) -> web.Response:
        self.requests.append(
            ForeignRequest(request.method, request.path_qs, request.headers.get("Authorization"))
        )
        return web.Response(body=CSV, content_type="text/csv")
