"""The Slack app end to end: signed events in, answers and charts in the right thread out."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.fakes.slack_payloads import as_app_mention, block_actions, message
from tests.harness import Harness, harness
from tests.samples import KOREAN_SALES_CSV, SALES_CSV

CSV = SALES_CSV
KOREAN_CSV = KOREAN_SALES_CSV


def bot_texts(h: Harness, channel: str, thread_ts: str) -> list[str]:
    return [m.text for m in h.slack.thread(channel, thread_ts) if m.bot]


def uploaded_files(h: Harness, channel: str, thread_ts: str) -> list[object]:
    return [f for m in h.slack.thread(channel, thread_ts) for f in m.files if m.bot]


async def test_mention_with_csv_answers_in_the_thread_with_a_chart(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="sales.csv", content=CSV)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total amount as a chart", files=[file]
        )
        assert await h.send_event(as_app_mention(event)) == 200
        await h.settle()

        answers = bot_texts(h, "C1", event["ts"])
        assert sum(text.count("3 rows, total 600") for text in answers) == 1, answers
        assert not any("sandbox:" in text for text in answers)
        charts = uploaded_files(h, "C1", event["ts"])
        assert len(charts) == 1
        chart = charts[0]
        assert chart.content.startswith(b"\x89PNG")  # type: ignore[attr-defined]
        assert chart.alt_txt  # type: ignore[attr-defined]
        # Progress was visible, and every indicator is gone at the end.
        statuses = h.slack.statuses("C1", event["ts"])
        assert statuses and statuses[0] and statuses[-1] == ""
        assert "eyes" not in h.slack.reactions("C1", event["ts"])
        # Nothing went anywhere else.
        assert h.slack.channel_messages("C1") == [
            m for m in h.slack.channel_messages("C1") if not m.bot
        ]


async def test_dm_with_a_korean_cp949_file_is_answered_under_the_message(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="매출.csv", content=KOREAN_CSV, mimetype="text/csv")
        event = h.slack.post_user_message(
            channel="D1", user="U1", text="지역별 매출 합계는?", files=[file]
        )
        assert await h.send_event(event) == 200
        await h.settle()
        answers = bot_texts(h, "D1", event["ts"])
        assert any("3 rows, total 600" in text for text in answers), answers
        # The bytes reached the sandbox unchanged, and the model was told the encoding.
        stored = [
            h.openai.file_bytes(fid)
            for fid in h.openai.files
            if h.openai.file_bytes(fid) == KOREAN_CSV
        ]
        assert stored, "the CP949 bytes were changed on the way"
        instructions = json.dumps(
            [r.json for r in h.openai.requests_to("POST", "/v1/responses")], ensure_ascii=False
        )
        assert "cp949" in instructions


async def test_follow_up_reuses_the_conversation_and_the_uploaded_files(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="sales.csv", content=CSV)
        first = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> summary", files=[file]
        )
        await h.send_event(as_app_mention(first))
        await h.settle()
        follow = h.slack.post_user_message(
            channel="C1", user="U2", text="and the total again?", thread_ts=first["ts"]
        )
        assert await h.send_event(follow) == 200
        await h.settle()

        answers = bot_texts(h, "C1", first["ts"])
        assert sum("3 rows, total 600" in text for text in answers) == 2, answers
        assert len(h.openai.requests_to("POST", "/v1/conversations")) == 1
        assert len(h.openai.requests_to("POST", "/v1/files")) == 1
        conversations = {
            r.json["conversation"] for r in h.openai.requests_to("POST", "/v1/responses") if r.json
        }
        assert len(conversations) == 1


async def test_reply_without_mention_in_a_thread_the_bot_never_answered_is_ignored(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        root = h.slack.post_user_message(channel="C1", user="U1", text="lunch?")
        reply = h.slack.post_user_message(
            channel="C1", user="U2", text="sure", thread_ts=root["ts"]
        )
        assert await h.send_event(message(**_fields(root))) == 200
        assert await h.send_event(reply) == 200
        await h.settle()
        assert bot_texts(h, "C1", root["ts"]) == []
        assert h.openai.requests_to("POST", "/v1/responses") == []


def _fields(event: dict[str, object]) -> dict[str, object]:
    return {k: event[k] for k in ("channel", "user", "text", "ts")}


async def test_retries_and_double_delivery_give_exactly_one_answer(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="sales.csv", content=CSV)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total?", files=[file]
        )
        statuses = await asyncio.gather(
            h.send_event(event, event_id="Ev1"),
            h.send_event(as_app_mention(event), event_id="Ev2"),
            h.send_event(as_app_mention(event), event_id="Ev2", retry_num=1),
        )
        assert statuses == [200, 200, 200]
        await h.settle()
        answers = [t for t in bot_texts(h, "C1", event["ts"]) if "3 rows" in t]
        assert len(answers) == 1
        assert len(h.openai.requests_to("POST", "/v1/responses")) == 1


async def test_forged_or_stale_signatures_are_refused_and_do_no_work(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        event = h.slack.post_user_message(channel="C1", user="U1", text="<@UBOT> hi")
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": "T0FAKE",
                "event_id": "Ev9",
                "event": as_app_mention(event),
            }
        )
        forged = await h.http.post(
            h.events_url,
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Slack-Signature": "v0=" + "0" * 64,
                "X-Slack-Request-Timestamp": str(int(time.time())),
            },
        )
        assert forged.status == 401
        stale = await h.post_signed(body, timestamp=int(time.time()) - 3600)
        assert stale.status == 401
        await h.settle()
        assert h.slack.calls_to("chat.postMessage") == []
        assert h.slack.calls_to("reactions.add") == []


async def test_two_threads_at_once_stay_isolated(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        a = h.slack.add_file(name="alpha.csv", content=b"k,v\na,1\nb,2\n")
        b = h.slack.add_file(name="beta.csv", content=b"k,v\nc,10\nd,20\ne,30\n")
        ea = h.slack.post_user_message(channel="C1", user="U1", text="<@UBOT> total?", files=[a])
        eb = h.slack.post_user_message(channel="C2", user="U2", text="<@UBOT> total?", files=[b])
        await asyncio.gather(h.send_event(as_app_mention(ea)), h.send_event(as_app_mention(eb)))
        await h.settle()
        ta = "\n".join(bot_texts(h, "C1", ea["ts"]))
        tb = "\n".join(bot_texts(h, "C2", eb["ts"]))
        assert "alpha.csv: 2 rows, total 3" in ta and "beta" not in ta
        assert "beta.csv: 3 rows, total 60" in tb and "alpha" not in tb


async def test_unsupported_and_unavailable_files_get_a_message_naming_them(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        exe = h.slack.add_file(
            name="setup.exe",
            content=b"MZ\x90\x00",
            mimetype="application/octet-stream",
            filetype="binary",
        )
        gone = h.slack.add_file(name="old.csv", content=CSV)
        h.slack.delete_file(gone["id"])
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> analyse", files=[exe, gone]
        )
        await h.send_event(as_app_mention(event))
        await h.settle()
        text = "\n".join(bot_texts(h, "C1", event["ts"]))
        assert "setup.exe" in text and "CSV" in text
        assert "old.csv" in text
        assert h.slack.statuses("C1", event["ts"])[-1] == ""
        assert h.openai.requests_to("POST", "/v1/responses") == []


async def test_question_without_files_uses_the_channels_latest_top_level_file(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="q3.csv", content=CSV, user="U7")
        share = h.slack.post_user_message(channel="C1", user="U7", text="Q3 numbers", files=[file])
        assert await h.send_event(share) == 200
        other = h.slack.add_file(name="secret.csv", content=b"a,b\n1,999\n")
        in_thread = h.slack.post_user_message(
            channel="C1", user="U8", text="private", files=[other], thread_ts=share["ts"]
        )
        assert await h.send_event(in_thread) == 200
        dm_file = h.slack.add_file(name="dm.csv", content=b"a,b\n1,5\n")
        assert (
            await h.send_event(
                h.slack.post_user_message(channel="D9", user="U7", text="x", files=[dm_file])
            )
            == 200
        )
        await h.settle()
        ask = h.slack.post_user_message(channel="C1", user="U1", text="<@UBOT> what is the total?")
        await h.send_event(as_app_mention(ask))
        await h.settle()
        text = "\n".join(bot_texts(h, "C1", ask["ts"]))
        assert "q3.csv" in text and "<@U7>" in text
        assert "3 rows, total 600" in text
        assert "secret" not in text and "dm.csv" not in text


async def test_show_code_posts_the_code_that_ran(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="sales.csv", content=CSV)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total", files=[file]
        )
        await h.send_event(as_app_mention(event))
        await h.settle()
        answer = next(m for m in h.slack.thread("C1", event["ts"]) if m.bot and "3 rows" in m.text)
        button = next(
            el
            for block in answer.blocks
            if block.get("type") == "actions"
            for el in block["elements"]
        )
        assert button["action_id"] == "show_code"
        payload = block_actions(
            action_id="show_code",
            value=button["value"],
            user="U1",
            channel="C1",
            message_ts=answer.ts,
            thread_ts=event["ts"],
        )
        assert await h.click(payload) == 200
        await h.settle()
        assert any(
            "pandas" in m.text or "import" in m.text
            for m in h.slack.thread("C1", event["ts"])
            if m.bot and m.ts != answer.ts
        )


async def test_mention_in_a_thread_uses_files_shared_there_before_the_bot_was_asked(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="early.csv", content=CSV)
        # Shared before the bot was in the channel: no event ever reached it.
        root = h.slack.post_user_message(channel="C1", user="U3", text="numbers", files=[file])
        ask = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total please", thread_ts=root["ts"]
        )
        await h.send_event(as_app_mention(ask))
        await h.settle()
        assert h.slack.calls_to("conversations.replies")
        text = "\n".join(bot_texts(h, "C1", root["ts"]))
        assert "early.csv: 3 rows, total 600" in text


async def test_slack_connect_file_stub_is_resolved_with_files_info(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        stub = h.slack.add_file(name="partner.csv", content=CSV, connect_stub=True)
        assert "url_private_download" not in stub
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> total?", files=[stub]
        )
        await h.send_event(as_app_mention(event))
        await h.settle()
        assert h.slack.calls_to("files.info")
        assert any("3 rows, total 600" in t for t in bot_texts(h, "C1", event["ts"]))


async def test_healthz_answers_ok(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        response = await h.http.get(h.events_url.replace("/slack/events", "/healthz"))
        assert response.status == 200
        assert (await response.json())["ok"] is True


async def test_markdown_table_becomes_a_sortable_slack_data_table(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="sales.csv", content=CSV)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> totals as a table", files=[file]
        )
        await h.send_event(as_app_mention(event))
        await h.settle()
        blocks = [b for m in h.slack.thread("C1", event["ts"]) if m.bot for b in m.blocks]
        tables = [b for b in blocks if b["type"] == "data_table"]
        assert len(tables) == 1
        assert tables[0]["caption"] == "Table 1"
        cells = {cell["text"]: cell for row in tables[0]["rows"] for cell in row}
        assert "sales.csv" in cells
        assert cells["600"] == {
            "type": "raw_number",
            "value": 600,
            "text": "600",
        }  # sorts as a number


async def test_a_long_answer_is_split_across_messages_without_losing_text(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        file = h.slack.add_file(name="sales.csv", content=CSV)
        event = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> long answer please", files=[file]
        )
        await h.send_event(as_app_mention(event))
        await h.settle()
        model_text = h.openai.model_calls[-1]
        parts = [m for m in h.slack.thread("C1", event["ts"]) if m.bot and m.blocks]
        assert len(parts) >= 3
        posted = "\n".join(
            b.get("text", "") for m in parts for b in m.blocks if b["type"] == "markdown"
        )
        # Every word of the answer arrives, in order (splits only fall between words).
        assert posted.split() == _final_text(h).split()
        assert len(posted) > 25_000
        assert "long answer" in model_text.question


def _final_text(h: Harness) -> str:
    response = list(h.openai.responses.values())[-1]
    return "".join(
        part["text"]
        for item in response.output
        if item.get("type") == "message"
        for part in item["content"]
        if part.get("type") == "output_text"
    )


async def test_a_burst_at_start_checks_the_token_once(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        events = [
            h.slack.post_user_message(channel=f"C{n}", user="U1", text="chatter") for n in range(8)
        ]
        statuses = await asyncio.gather(*(h.send_event(e) for e in events))
        assert statuses == [200] * 8
        assert len(h.slack.calls_to("auth.test")) == 1


async def test_files_added_by_replies_before_the_mention_are_used_in_that_thread_only(
    tmp_path: Path,
) -> None:
    async with harness(tmp_path) as h:
        first = h.slack.add_file(name="jan.csv", content=b"k,v\na,1\nb,2\n")
        root = h.slack.post_user_message(channel="C1", user="U3", text="jan", files=[first])
        assert await h.send_event(root) == 200
        second = h.slack.add_file(name="feb.csv", content=b"k,v\nc,10\n")
        reply = h.slack.post_user_message(
            channel="C1", user="U4", text="and feb", files=[second], thread_ts=root["ts"]
        )
        assert await h.send_event(reply) == 200
        ask = h.slack.post_user_message(
            channel="C1", user="U1", text="<@UBOT> totals?", thread_ts=root["ts"]
        )
        await h.send_event(as_app_mention(ask))
        other = h.slack.post_user_message(channel="C1", user="U1", text="<@UBOT> totals?")
        await h.send_event(as_app_mention(other))
        await h.settle()
        text = "\n".join(bot_texts(h, "C1", root["ts"]))
        assert "jan.csv: 2 rows, total 3" in text and "feb.csv: 1 rows, total 10" in text
        elsewhere = "\n".join(bot_texts(h, "C1", other["ts"]))
        assert "jan.csv" in elsewhere and "feb.csv" not in elsewhere
