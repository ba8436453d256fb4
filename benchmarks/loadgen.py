"""A process that plays Slack: it POSTs a burst of signed event deliveries all at once.

Reads one JSON plan a line on stdin: ``{"url": ..., "requests": [{"body": str, "headers":
{...}}, ...], "spacing_s": 0}`` (with ``spacing_s`` > 0 the requests go out that far apart
instead of all at once); answers one JSON line ``{"results": [[sent_at, seconds, status], ...]}`` in
the same order (``sent_at`` is wall-clock time, comparable with the fakes' records; status
-1 means the request failed).

It is kept apart from the fakes so that their work never delays the reading of an
acknowledgement, and it speaks HTTP/1.1 over plain asyncio streams rather than through a
client library: each connection is opened before the clock starts (as Slack's senders keep
connections alive), every request is written in one go, and the little parsing left costs
microseconds, so the figures are the server's and not the load generator's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_S = 120.0


def request_bytes(*, host: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response with a Content-Length body; return its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def burst(plan: dict[str, Any]) -> list[list[float]]:
    url = urlsplit(plan["url"])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    prepared = [
        request_bytes(
            host=f"{host}:{port}", path=url.path, body=r["body"].encode(), headers=r["headers"]
        )
        for r in plan["requests"]
    ]
    connections = await asyncio.gather(*(asyncio.open_connection(host, port) for _ in prepared))
    spacing = float(plan.get("spacing_s") or 0.0)
    loop = asyncio.get_running_loop()
    sent: list[asyncio.Future[tuple[float, float]]] = [loop.create_future() for _ in prepared]

    async def answer(index: int) -> list[float]:
        sent_at, started = await sent[index]
        try:
            status = await asyncio.wait_for(read_response(connections[index][0]), TIMEOUT_S)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            status = -1
        return [sent_at, time.perf_counter() - started, float(status)]

    results: list[list[float]] = []
    try:
        answers = asyncio.gather(*(answer(i) for i in range(len(prepared))))
        first = time.perf_counter()
        for index, ((_reader, writer), data) in enumerate(zip(connections, prepared, strict=True)):
            if spacing:
                await asyncio.sleep(max(0.0, first + index * spacing - time.perf_counter()))
            sent[index].set_result((time.time(), time.perf_counter()))
            writer.write(data)
        results = await answers
    finally:
        for _reader, writer in connections:
            writer.close()
    return results


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        results = asyncio.run(burst(json.loads(line)))
        print(json.dumps({"results": results}), flush=True)


if __name__ == "__main__":
    main()
