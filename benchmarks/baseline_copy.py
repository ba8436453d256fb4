"""The yardstick for large files: a plain store-and-forward copy with a bare aiohttp client.

    python -m benchmarks.baseline_copy '<json>'

The JSON names ``download_url``, ``slack_token``, ``openai_base_url``, ``openai_key``,
``filename``, ``part_size`` and ``workdir``. It downloads the file to disk, then sends it
through the Uploads API (create, parts of ``part_size`` read from disk one at a time,
complete), exactly the requests the bot makes, and prints ``{"file_id": ..., "peak_rss":
bytes}``.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from pathlib import Path
from typing import Any

import aiohttp

CHUNK = 1 << 20


async def copy(job: dict[str, Any]) -> str:
    path = Path(job["workdir"]) / "baseline-download"
    auth = {"Authorization": f"Bearer {job['openai_key']}"}
    base = job["openai_base_url"]
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        headers = {"Authorization": f"Bearer {job['slack_token']}"}
        async with session.get(job["download_url"], headers=headers, allow_redirects=False) as resp:
            resp.raise_for_status()
            with path.open("wb") as out:
                async for chunk in resp.content.iter_chunked(CHUNK):
                    out.write(chunk)
        size = path.stat().st_size
        body = {
            "bytes": size,
            "filename": job["filename"],
            "mime_type": "text/csv",
            "purpose": "user_data",
        }
        async with session.post(f"{base}/uploads", json=body, headers=auth) as resp:
            resp.raise_for_status()
            upload_id = (await resp.json())["id"]
        part_ids = []
        with path.open("rb") as source:
            while data := source.read(job["part_size"]):
                form = aiohttp.FormData()
                form.add_field(
                    "data", data, filename=job["filename"], content_type="application/octet-stream"
                )
                async with session.post(
                    f"{base}/uploads/{upload_id}/parts", data=form, headers=auth
                ) as resp:
                    resp.raise_for_status()
                    part_ids.append((await resp.json())["id"])
        url = f"{base}/uploads/{upload_id}/complete"
        async with session.post(url, json={"part_ids": part_ids}, headers=auth) as resp:
            resp.raise_for_status()
            file_id = str((await resp.json())["file"]["id"])
    path.unlink()
    return file_id


def main() -> None:
    file_id = asyncio.run(copy(json.loads(sys.argv[1])))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"file_id": file_id, "peak_rss": peak}), flush=True)


if __name__ == "__main__":
    main()
