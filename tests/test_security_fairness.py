"""Fair use end to end: per-person running and waiting limits with private notes, the
files-per-thread limit applied before any download, and over-long questions refused."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from storage.records import DONE, REFUSED
from tests.fakes.openai_model import ModelContext, ModelResult, default_model
from tests.fakes.openai_runs import question_text
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_payloads import as_app_mention
from tests.harness import Harness, bot_over
from tests.reliability_harness import (
    ANSWER,
    answers,
    ask,
    creates,
    fakes,
    stored_turns,
    thread_text,
    wait_until,
)

WAITS = "waits and starts automatically"
NOT_TAKEN = "did not take this one"


class Gate:
    """A scripted model that holds the runs of questions containing ``held`` until let go,
    and records, at each model call, how many such runs were in progress at once."""

    def __init__(self, openai: FakeOpenAI, *, held: str) -> None:
        self.openai, self.held = openai, held
        self.permits = threading.Semaphore(0)
        self.calls: list[str] = []  # questions, in the order the model saw them
        self.most_at_once = 0
        openai.model = self

    def let_one_go(self) -> None:
        self.permits.release()

    def open(self) -> None:
        self.permits.release(1000)

    def active(self) -> int:
        return sum(
            r.status in ("queued", "in_progress") and self.held in question_text(r.request["input"])
            for r in self.openai.responses.values()
        )

    def __call__(self, context: ModelContext) -> ModelResult:
        self.calls.append(context.question)
        self.most_at_once = max(self.most_at_once, self.active())
        if self.held in context.question:
            self.permits.acquire(timeout=20)
        return default_model(context)


def notes_to(h: Harness, user: str, needle: str) -> list[str]:
    return [
        m["text"] for m in h.slack.ephemeral_messages if m["user"] == user and needle in m["text"]
    ]


def asked_in_order(gate: Gate, prefix: str) -> Callable[[], list[str]]:
    return lambda: [q.split()[0] for q in gate.calls if q.startswith(prefix)]


async def test_one_person_runs_three_at_once_and_the_rest_wait_in_order_without_blocking_others(
    tmp_path: Path,
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        gate = Gate(openai, held="from-U1")
        mine = [
            await ask(h, channel=f"C{n}", user="U1", text=f"<@UBOT> q{n} from-U1 total?")
            for n in range(1, 7)
        ]
        await wait_until(lambda: gate.active() == 3)
        other = await ask(h, channel="C9", user="U2", text="<@UBOT> total for me?")
        # The other person is answered while the first person's runs are all still held.
        await wait_until(lambda: bool(answers(slack, "C9", other["ts"])))
        assert gate.active() == 3
        assert len(creates(openai)) == 4  # three of U1's and U2's: the rest wait
        assert len(notes_to(h, "U1", WAITS)) == 1, "one note per minute, not one per question"
        assert "in line" not in thread_text(slack, "C4", mine[3]["ts"])  # no public notice

        # Each run that ends lets exactly the next waiting question start, in order.
        order = asked_in_order(gate, "q")
        for started in (4, 5, 6):
            gate.let_one_go()
            await wait_until(lambda: len(order()) == started)  # noqa: B023
        gate.open()
        await h.settle()

        assert gate.most_at_once == 3
        assert sorted(order()[:3]) == ["q1", "q2", "q3"] and order()[3:] == ["q4", "q5", "q6"]
        for n, event in enumerate(mine, start=1):
            assert len(answers(slack, f"C{n}", event["ts"])) == 1
        assert [t.status for t in stored_turns(tmp_path / "db")] == [DONE] * 7
        assert notes_to(h, "U2", "") == []


async def test_beyond_ten_waiting_questions_are_refused_recorded_and_told_once(
    tmp_path: Path,
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        gate = Gate(openai, held="from-U1")
        sent = [
            await ask(h, channel=f"C{n:02d}", user="U1", text=f"<@UBOT> q{n} from-U1 total?")
            for n in range(1, 16)
        ]
        await wait_until(lambda: len(notes_to(h, "U1", NOT_TAKEN)) == 1)
        by_ts = {t.message_ts: t for t in stored_turns(tmp_path / "db")}
        refused = [n for n, e in enumerate(sent, start=1) if by_ts[e["ts"]].status == REFUSED]
        assert refused == [14, 15]
        assert {by_ts[sent[n - 1]["ts"]].error for n in refused} == {"too_many_waiting"}
        await wait_until(lambda: gate.active() == 3)
        assert len(creates(openai)) == 3

        gate.open()
        await h.settle()

        assert gate.most_at_once == 3
        for n, event in enumerate(sent, start=1):
            channel = f"C{n:02d}"
            assert len(answers(slack, channel, event["ts"])) == (0 if n in refused else 1)
            assert "eyes" not in slack.reactions(channel, event["ts"])
        assert len(creates(openai)) == 13
        notes = [m for m in slack.ephemeral_messages if m["user"] == "U1"]
        assert len(notes) == 2  # one "waits", one "refused", whatever the flood
        assert len(notes_to(h, "U1", WAITS)) == 1
        assert "10 questions waiting" in notes_to(h, "U1", NOT_TAKEN)[0]
        assert notes[1]["thread_ts"] == sent[13]["ts"]  # in the 14th question's thread


async def test_limits_set_to_zero_let_one_person_run_everything_at_once(tmp_path: Path) -> None:
    async with fakes() as (slack, openai):
        openai.run_delay_s = 1.0
        gate = Gate(openai, held="from-U1")
        gate.open()
        async with bot_over(
            slack,
            openai,
            tmp_path / "db",
            INSIGHTBOT_USER_MAX_RUNNING="0",
            INSIGHTBOT_USER_MAX_WAITING="0",
        ) as h:
            sent = [
                await ask(h, channel=f"C{n:02d}", user="U1", text=f"<@UBOT> q{n} from-U1 total?")
                for n in range(1, 16)
            ]
            await h.settle(30)
            for n, event in enumerate(sent, start=1):
                assert len(answers(slack, f"C{n:02d}", event["ts"])) == 1
            assert gate.most_at_once > 3
            assert slack.ephemeral_messages == []
            assert REFUSED not in {t.status for t in stored_turns(tmp_path / "db")}


async def test_sixty_files_in_a_thread_download_only_the_twenty_used_and_name_the_rest(
    tmp_path: Path,
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:

        def batch(tag: str, count: int) -> list[dict[str, object]]:
            return [
                slack.add_file(name=f"{tag}{n:02d}.csv", content=b"k,v\nx,%d\n" % n)
                for n in range(1, count + 1)
            ]

        root = slack.post_user_message(channel="C1", user="U3", text="jan", files=batch("a", 20))
        assert await h.send_event(root) == 200
        for tag in ("b", "c"):
            reply = slack.post_user_message(
                channel="C1", user="U3", text=tag, files=batch(tag, 20), thread_ts=root["ts"]
            )
            assert await h.send_event(reply) == 200
        question = slack.post_user_message(
            channel="C1",
            user="U1",
            text="<@UBOT> compare a03.csv with the new ones",
            files=batch("new", 2),
            thread_ts=root["ts"],
        )
        assert await h.send_event(as_app_mention(question)) == 200
        await h.settle(30)

        (call,) = openai.model_calls
        used = sorted(f.name for f in call.files if f.source == "user" and f.name.endswith(".csv"))
        newest_replies = [f"c{n:02d}.csv" for n in range(4, 21)]
        assert used == sorted(["a03.csv", "new01.csv", "new02.csv", *newest_replies])
        downloaded = {d.file_id for d in slack.downloads}
        assert len(slack.downloads) == len(downloaded) == 20
        text = thread_text(slack, "C1", root["ts"])
        everything = {n for tag in "abc" for n in (f"{tag}{i:02d}.csv" for i in range(1, 21))}
        left_out = everything - set(used)
        assert len(left_out) == 42 and all(name in text for name in left_out)
        assert "more files than the sandbox holds (20)" in text
        assert "a04.csv" in (call.instructions or ""), "the model is not told what was left out"


async def test_a_question_over_the_length_limit_is_refused_with_the_limit_and_nothing_runs(
    tmp_path: Path,
) -> None:
    async with fakes() as (slack, openai), bot_over(slack, openai, tmp_path / "db") as h:
        words = ("how much " * 2500)[:20_000].rstrip()
        body = words + "?" * (20_001 - len(words))
        event = await ask(h, text=f"<@UBOT> {body}")
        await wait_until(lambda: bool(slack.ephemeral_messages))
        await h.settle()

        (note,) = slack.ephemeral_messages
        assert note["user"] == "U1" and note["thread_ts"] == event["ts"]
        assert "20,000 characters" in note["text"]
        (turn,) = stored_turns(tmp_path / "db")
        assert len(turn.question) > 20_000
        assert (turn.status, turn.error) == (REFUSED, "question_too_long")
        assert creates(openai) == [] and slack.downloads == []
        assert "eyes" not in slack.reactions("C1", event["ts"])
        assert slack.statuses("C1", event["ts"]) == []
        assert ANSWER not in thread_text(slack, "C1", event["ts"])
