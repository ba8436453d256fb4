"""How many bytes of generated files one answer may bring back (pure bookkeeping).

Two bounds apply: one per file and one for all files of a turn. A file is checked against
both by the size the sandbox declares before anything is downloaded; while it downloads, its
bytes are counted against ``cap_for`` so that a wrong declaration cannot take more.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import LONGER_THAN_DECLARED, OVER_FILE_LIMIT, OVER_TURN_LIMIT


@dataclass
class OutputBudget:
    file_limit: int
    turn_limit: int
    used: int = 0

    def refusal(self, declared: int | None) -> tuple[str, int] | None:
        """(reason, limit) when a file declared ``declared`` bytes may not be fetched at all."""
        if declared is not None and declared > self.file_limit:
            return OVER_FILE_LIMIT, self.file_limit
        if self.used + (declared or 0) > self.turn_limit or self.used >= self.turn_limit:
            return OVER_TURN_LIMIT, self.turn_limit
        return None

    def cap_for(self, declared: int | None) -> int:
        """Most bytes the download of a file declared ``declared`` bytes may bring."""
        room = min(self.file_limit, self.turn_limit - self.used)
        return room if declared is None else min(declared, room)

    def overrun(self, declared: int | None) -> tuple[str, int]:
        """(reason, limit) for a download that brought more than ``cap_for(declared)``."""
        if declared is not None and declared <= min(self.file_limit, self.turn_limit - self.used):
            return LONGER_THAN_DECLARED, declared
        if self.file_limit <= self.turn_limit - self.used:
            return OVER_FILE_LIMIT, self.file_limit
        return OVER_TURN_LIMIT, self.turn_limit

    def spend(self, size: int) -> None:
        """Count a delivered file's bytes against the turn's total."""
        self.used += size
