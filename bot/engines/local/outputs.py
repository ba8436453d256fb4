"""Files a turn's cells produced, brought from the kernel's folder into the turn's out_dir
under the same size limits as the OpenAI engine (bot/engines/output_budget.py).

Blocking disk I/O: call ``collect_outputs`` from a worker thread.
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Sequence
from pathlib import Path

from bot.engines.output_budget import OutputBudget
from bot.types import Artifact, ArtifactWithheld

_CHUNK = 1024 * 1024


def is_deliverable(relative: str) -> bool:
    """Whether a file a cell wrote is a result (not a hidden or cache file)."""
    parts = Path(relative).parts
    return bool(parts) and not any(p.startswith(".") or p == "__pycache__" for p in parts)


def collect_outputs(
    *,
    data_dir: Path,
    written: Sequence[str],
    images: Sequence[Path],
    out_dir: Path,
    budget: OutputBudget,
) -> list[Artifact | ArtifactWithheld]:
    """Copy each file in ``written`` (relative to ``data_dir``) and each displayed image into
    ``out_dir``; files over the limits come back as ArtifactWithheld instead."""
    found: list[Artifact | ArtifactWithheld] = []
    sources = [(data_dir / name, Path(name).name) for name in written if is_deliverable(name)]
    sources += [(image, image.name) for image in images]
    for source, name in sources:
        if source.is_symlink() or not source.is_file():
            continue  # a link could point at a host file the kernel could not read itself
        found.append(_copied(source, name=name, out_dir=out_dir, budget=budget))
    return found


def _copied(
    source: Path, *, name: str, out_dir: Path, budget: OutputBudget
) -> Artifact | ArtifactWithheld:
    file_id = f"local-out-{secrets.token_hex(8)}"
    declared = source.stat().st_size
    refusal = budget.refusal(declared)
    if refusal is not None:
        reason, limit = refusal
        return ArtifactWithheld(
            name=name, file_id=file_id, reason=reason, size=declared, limit=limit
        )
    cap = budget.cap_for(declared)
    folder = out_dir / file_id
    folder.mkdir(parents=True)
    target = folder / name
    size = 0
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            if size > cap:  # still growing (a process the cell left behind)
                dst.close()
                target.unlink()
                reason, limit = budget.overrun(declared)
                return ArtifactWithheld(
                    name=name, file_id=file_id, reason=reason, size=declared, limit=limit
                )
            dst.write(chunk)
    budget.spend(size)
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Artifact(name=name, mime_type=mime, path=target, size=size, file_id=file_id)
