"""Which file a scheduled run uses, and whether it runs at all (skip-unchanged). Pure."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from bot.types import SlackFile

NEWEST_PREFIX = "newest:"


def newest_pattern(files: str) -> str | None:
    """The pattern of a ``newest:PATTERN`` choice; None for ``same``."""
    return files[len(NEWEST_PREFIX) :] if files.startswith(NEWEST_PREFIX) else None


def newest_matching(
    files: Iterable[SlackFile], *, pattern: str, home_teams: frozenset[str], allow_external: bool
) -> SlackFile | None:
    """The newest file named like ``pattern`` (case-insensitive shell pattern). Remote files
    are never used, nor files of people from other organisations unless they are allowed."""
    usable = [
        f
        for f in files
        if not f.is_remote
        and fnmatch.fnmatch(f.name.lower(), pattern.lower())
        and (allow_external or not f.user_team or f.user_team in home_teams)
    ]
    return max(usable, key=lambda f: (f.created or 0.0, f.id), default=None)


@dataclass(frozen=True)
class RunPlan:
    """What a due occurrence does: ``run`` with ``file`` (None: the schedule's own files), or
    skip it (``skip_reason``)."""

    run: bool
    file: SlackFile | None = None
    skip_reason: str | None = None  # "no_file" | "unchanged"


def plan_run(*, pattern: str | None, found: SlackFile | None, last_file_id: str | None,
             skip_unchanged: bool) -> RunPlan:  # fmt: skip
    """Decide a due run: a newest-file schedule with no matching file skips; with
    skip-unchanged, so does one whose newest file is the one the last run used."""
    if pattern is None:
        return RunPlan(run=True)
    if found is None:
        return RunPlan(run=False, skip_reason="no_file")
    if skip_unchanged and found.id == last_file_id:
        return RunPlan(run=False, skip_reason="unchanged")
    return RunPlan(run=True, file=found)
