"""Figures, targets and the printed table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank, as load testers report it); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figure:
    """One measured value, with its target (``passed`` None: no target, information only)."""

    label: str
    value: float
    unit: str
    target: str = ""
    passed: bool | None = None

    @property
    def shown(self) -> str:
        if math.isnan(self.value):
            return "n/a"
        if self.unit in ("", "×"):
            number = f"{self.value:.2f}" if self.unit == "×" else f"{self.value:,.0f}"
            return f"{number}{self.unit}"
        digits = 0 if abs(self.value) >= 100 else 1 if abs(self.value) >= 10 else 2
        return f"{self.value:,.{digits}f} {self.unit}"

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return ""
        return "PASS" if self.passed else "MISS"


def below(label: str, value: float, limit: float, unit: str) -> Figure:
    return Figure(label, value, unit, f"< {limit:g} {unit}".strip(), value < limit)


def at_most(label: str, value: float, limit: float, unit: str) -> Figure:
    return Figure(label, value, unit, f"≤ {limit:g}{unit}", value <= limit)


def at_least(label: str, value: float, limit: float, unit: str) -> Figure:
    return Figure(label, value, unit, f"≥ {limit:g} {unit}".strip(), value >= limit)


def info(label: str, value: float, unit: str) -> Figure:
    return Figure(label, value, unit)


@dataclass
class Section:
    """One benchmark's figures and notes (how it was measured, what it found)."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def missed(self) -> list[Figure]:
        return [f for f in self.figures if f.passed is False]


def table(sections: Sequence[Section], *, machine: str, mode: str) -> str:
    """The whole report as text: machine line, one table, then each section's notes."""
    rows = [("Benchmark", "Figure", "Value", "Target", "Result")]
    for section in sections:
        for index, figure in enumerate(section.figures):
            title = section.title if index == 0 else ""
            rows.append((title, figure.label, figure.shown, figure.target, figure.verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    rule = "+".join("-" * (w + 2) for w in widths)
    lines = [f"Machine: {machine}", f"Mode: {mode}", "", "+" + rule + "+"]
    for index, row in enumerate(rows):
        cells = [
            f" {cell.rjust(w) if i == 2 else cell.ljust(w)} "
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("|" + "|".join(cells) + "|")
        if index == 0:
            lines.append("+" + rule + "+")
    lines.append("+" + rule + "+")
    passed = sum(1 for s in sections for f in s.figures if f.passed)
    judged = sum(1 for s in sections for f in s.figures if f.passed is not None)
    lines.append(f"{passed}/{judged} targets met.")
    for section in sections:
        if section.notes:
            lines.append("")
            lines.append(f"{section.title} ({section.seconds:.1f} s):")
            lines.extend(f"  - {note}" for note in section.notes)
    return "\n".join(lines)
