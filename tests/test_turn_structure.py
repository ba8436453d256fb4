"""The turn's shape, checked on the code's syntax tree: the ledger is the only writer of a
turn's progress, and the path of a question reads one way (handlers → intake → runner → turn),
with no module of the turn reaching back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LEDGER = "bot/turn/ledger.py"
# Store methods that change a stored turn after it was created.
PROGRESS_WRITES = frozenset(
    {"update_turn", "add_posted_artifact", "add_answer_part", "create_turn"}
)


def _sources() -> list[Path]:
    return [p for package in ("bot", "handlers") for p in (ROOT / package).rglob("*.py")]


def _calls(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_only_the_ledger_writes_a_turns_progress() -> None:
    writers = {
        f"{path.relative_to(ROOT).as_posix()}: {name}"
        for path in _sources()
        for name in _calls(path) & PROGRESS_WRITES
        if path.relative_to(ROOT).as_posix() != LEDGER
    }
    assert not writers, sorted(writers)


def test_the_ledger_names_every_transition() -> None:
    tree = ast.parse((ROOT / LEDGER).read_text(encoding="utf-8"))
    (ledger,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TurnLedger"]
    transitions = {
        f.name
        for f in ledger.body
        if isinstance(f, ast.AsyncFunctionDef) and not f.name.startswith("_")
    }
    assert transitions >= {
        "queued",
        "running",
        "working_message_posted",
        "run_requested",
        "run_started",
        "cursor",
        "answer_part_posted",
        "answered",
        "failed",
        "stopped",
    }


@pytest.mark.parametrize(
    ("module", "must_not_import"),
    [
        ("bot/runner.py", ("bot.intake", "handlers")),
        ("bot/intake.py", ("handlers",)),
        *[
            (f"bot/turn/{p.name}", ("bot.runner", "bot.intake", "bot.actions", "handlers"))
            for p in (ROOT / "bot" / "turn").glob("*.py")
        ],
    ],
)
def test_a_question_travels_one_way(module: str, must_not_import: tuple[str, ...]) -> None:
    imported = _imported_modules(ROOT / module)
    back = sorted(m for m in imported if m.startswith(must_not_import))
    assert not back, f"{module} reaches back to {back}"


# Packages with one front door: code outside a package imports only its ``__init__``.
FRONTS = (
    "bot.turn",
    "bot.files",
    "bot.engines.openai",
    "bot.engines.local",
    "bot.slack.render",
    "bot.messages",
)


@pytest.mark.parametrize("front", FRONTS)
def test_other_code_imports_a_package_only_through_its_front(front: str) -> None:
    inside = front.replace(".", "/") + "/"
    offenders = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(inside):
            continue
        for module in _imported_modules(path):
            if module.startswith(front + "."):
                offenders.append(f"{relative} imports {module}")
    assert not offenders, offenders


@pytest.mark.parametrize("front", FRONTS)
def test_each_package_front_lists_what_it_offers(front: str) -> None:
    init = ROOT / front.replace(".", "/") / "__init__.py"
    tree = ast.parse(init.read_text(encoding="utf-8"))
    names = [
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    ]
    assert "__all__" in names, f"{init} has no __all__"
    assert ast.get_docstring(tree), f"{init} does not say what the package is"
