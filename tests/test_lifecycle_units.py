"""The data lifecycle's pure parts: what counts as "forget", when an upload must go up again,
the texts in both languages, and reading a message shortcut."""

from __future__ import annotations

import pytest

from bot import messages
from bot.engines.objects import upload_lifetime_s
from bot.lifecycle import is_forget_request, retention_cutoff, upload_is_stale
from handlers.parse import shortcut_for
from tests.fakes.slack_payloads import message_action

DAY = 24 * 3600.0


@pytest.mark.parametrize(
    "text",
    [
        "forget",
        "Forget",
        "FORGET this thread",
        "forget this thread.",
        "잊어줘",
        "이 스레드 잊어줘",
        " 잊어 줘 ",
    ],
)
def test_each_forget_phrasing_is_a_forget_request(text: str) -> None:
    assert is_forget_request(text)


@pytest.mark.parametrize(
    "text",
    [
        "forget the outliers and plot again",
        "don't forget the totals",
        "what did you forget?",
        "이 스레드 요약해줘",
        "",
        "forget " * 20,
    ],
)
def test_questions_that_mention_forgetting_are_still_questions(text: str) -> None:
    assert not is_forget_request(text)


def test_retention_off_means_no_cutoff_and_uploads_that_never_expire() -> None:
    assert retention_cutoff(1000 * DAY, 0) is None
    assert retention_cutoff(1000 * DAY, 30) == 970 * DAY
    assert upload_lifetime_s(0) is None
    assert not upload_is_stale(0.0, now=400 * DAY, retention_days=0)


@pytest.mark.parametrize(("days", "lifetime"), [(1, 86400), (30, 2592000), (365, 2592000)])
def test_upload_expiry_is_the_retention_period_within_the_apis_limits(
    days: int, lifetime: int
) -> None:
    assert upload_lifetime_s(days) == lifetime


def test_a_cached_upload_goes_up_again_before_it_expires_at_the_engine() -> None:
    uploaded = 1000 * DAY
    assert not upload_is_stale(uploaded, now=uploaded + 20 * DAY, retention_days=30)
    assert upload_is_stale(uploaded, now=uploaded + 29.5 * DAY, retention_days=30)
    # Kept for 90 days: the file still expires after 30 at OpenAI.
    assert upload_is_stale(uploaded, now=uploaded + 29.5 * DAY, retention_days=90)
    # An upload from before uploads expired (no time recorded) is reused as before.
    assert not upload_is_stale(None, now=uploaded, retention_days=30)


def test_the_confirmation_says_what_was_deleted_and_what_is_still_pending() -> None:
    deleted = {"file": 2, "container": 1, "conversation": 1, "response": 3}
    pending = {"file": 0, "container": 0, "conversation": 1, "response": 0}
    en = messages.forget_done("en", deleted=deleted, pending=pending, turns=3, files=2)
    assert "2 uploaded files" in en and "1 sandbox" in en and "3 responses" in en
    assert "Not deleted yet: 1 conversation" in en
    ko = messages.forget_done("ko", deleted=deleted, pending=pending, turns=3, files=2)
    assert "업로드한 파일 2개" in ko and "아직 삭제되지 않은 항목 1개" in ko
    nothing_pending = messages.forget_done(
        "en", deleted=deleted, pending=dict.fromkeys(deleted, 0), turns=0, files=0
    )
    assert "Not deleted yet" not in nothing_pending


@pytest.mark.parametrize(
    "text",
    [
        messages.forget_nothing("ko"),
        messages.forget_not_allowed("ko"),
        messages.forget_busy("ko"),
        messages.analysis_cleared("ko", reason="retention", days=30),
        messages.analysis_cleared("ko", reason="request", days=30),
    ],
)
def test_every_lifecycle_text_has_its_korean_version(text: str) -> None:
    assert any("\uac00" <= ch <= "\ud7a3" for ch in text)


def test_the_cleared_line_says_why() -> None:
    assert "after 30 days" in messages.analysis_cleared("en", reason="retention", days=30)
    assert "on request" in messages.analysis_cleared("en", reason="request", days=30)


def test_a_message_shortcut_names_the_thread_of_the_message_it_was_used_on() -> None:
    reply = shortcut_for(
        body=message_action(
            callback_id="forget_thread",
            user="U2",
            channel="C1",
            message_ts="200.5",
            thread_ts="100.1",
            text="답변",
        )
    )
    assert reply is not None
    assert (reply.channel, reply.thread_ts, reply.user, reply.text) == ("C1", "100.1", "U2", "답변")
    top = shortcut_for(
        body=message_action(
            callback_id="forget_thread", user="U2", channel="C1", message_ts="100.1"
        )
    )
    assert top is not None and top.thread_ts == "100.1"
    assert shortcut_for(body={"type": "block_actions"}) is None
