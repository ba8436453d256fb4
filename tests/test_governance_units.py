"""Governance decisions without I/O: the access order, budgets and their periods, prices
(the strict match rule, overrides, cached tokens), the sandbox time estimate, the settings."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.admission import (
    BUDGET_EXHAUSTED,
    UNKNOWN_PRICE,
    Admission,
    Asker,
    Limits,
    UserLoad,
    Verdict,
    admission_for,
)
from bot.config import load_settings
from bot.errors import ConfigError
from bot.governance import (
    AccessPolicy,
    Budget,
    BudgetLimits,
    Facts,
    Periods,
    Prices,
    Refusal,
    Spending,
    TokenPrice,
    access_refusal,
    container_minutes_for,
    exhausted_budget,
    load_price_file,
    safety_identifier_for,
    usable_shares,
)
from bot.types import Usage
from storage.records import FileRecord

HOME = frozenset({"T1"})
OPEN = AccessPolicy()


def refusal(policy: AccessPolicy = OPEN, **kw: object) -> Refusal | None:
    args: dict[str, object] = dict(
        user="U1", user_team="T1", home_teams=HOME, channel="C1", channel_type="channel",
        channel_enabled=None,
    )  # fmt: skip
    args.update(kw)
    return access_refusal(policy=policy, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("policy", "where", "expected"),
    [
        (OPEN, {}, None),
        (AccessPolicy(allowed_users=frozenset({"U2"})), {}, Refusal.USER),
        (AccessPolicy(allowed_users=frozenset({"U1"})), {}, None),
        (OPEN, {"user_team": "T9"}, Refusal.EXTERNAL),
        (AccessPolicy(allow_external=True), {"user_team": "T9"}, None),
        (OPEN, {"user_team": "E1", "home_teams": frozenset({"T1", "E1"})}, None),  # the Grid org
        (OPEN, {"user_team": None}, None),  # Slack names the team where it differs
        (AccessPolicy(allowed_channels=frozenset({"C2"})), {}, Refusal.CHANNEL),
        (AccessPolicy(allowed_channels=frozenset({"C1"})), {}, None),
        (OPEN, {"channel_enabled": False}, Refusal.CHANNEL_OFF),
        # The channel's own switch never opens a channel outside the allow-list.
        (AccessPolicy(allowed_channels=frozenset({"C2"})), {"channel_enabled": True}, Refusal.CHANNEL),
        # DMs and group DMs follow ALLOW_DMS only, not the channel list nor a channel switch.
        (AccessPolicy(allowed_channels=frozenset({"C2"})), {"channel_type": "im", "channel": "D1"}, None),
        (AccessPolicy(allow_dms=False), {"channel_type": "im", "channel": "D1"}, Refusal.DMS),
        (AccessPolicy(allow_dms=False), {"channel_type": "mpim", "channel": "G1"}, Refusal.DMS),
        (OPEN, {"channel_type": "mpim", "channel_enabled": False}, None),
        # The order: users first, then external people, then the conversation.
        (AccessPolicy(allowed_users=frozenset({"U2"}), allow_dms=False), {"user_team": "T9", "channel_type": "im"}, Refusal.USER),
        (AccessPolicy(allowed_channels=frozenset({"C2"})), {"user_team": "T9"}, Refusal.EXTERNAL),
    ],
)  # fmt: skip
def test_access_is_decided_in_one_order(
    policy: AccessPolicy, where: dict[str, object], expected: Refusal | None
) -> None:
    assert refusal(policy, **where) is expected


def test_files_of_external_people_are_left_out_while_they_are_denied() -> None:
    mine = FileRecord(thread_key="T1:C1:1.0", slack_file_id="F1", name="a.csv", shared_by_team="T1")
    theirs = FileRecord(
        thread_key="T1:C1:1.0", slack_file_id="F2", name="b.csv", shared_by_team="T9"
    )
    assert usable_shares([mine, theirs], policy=OPEN, home_teams=HOME) == [mine]
    allowed = AccessPolicy(allow_external=True)
    assert usable_shares([mine, theirs], policy=allowed, home_teams=HOME) == [mine, theirs]


SEOUL = "Asia/Seoul"


def test_days_and_months_begin_at_midnight_in_the_configured_time_zone() -> None:
    now = datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo(SEOUL)).timestamp()
    periods = Periods.at(now, SEOUL)
    assert periods.day_start == datetime(2026, 3, 31, tzinfo=ZoneInfo(SEOUL)).timestamp()
    assert periods.day_end == datetime(2026, 4, 1, tzinfo=ZoneInfo(SEOUL))
    assert periods.month_start == datetime(2026, 3, 1, tzinfo=ZoneInfo(SEOUL)).timestamp()
    assert periods.month_end == datetime(2026, 4, 1, tzinfo=ZoneInfo(SEOUL))
    # The same moment is still March 31 in UTC's day, which began 9 hours later.
    assert Periods.at(now, "UTC").day_start - periods.day_start == 9 * 3600


def test_daylight_saving_days_still_end_at_midnight() -> None:
    zone = "Europe/Berlin"
    now = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo(zone)).timestamp()  # a 23-hour day
    periods = Periods.at(now, zone)
    assert periods.day_end.timestamp() - periods.day_start == 23 * 3600


PERIODS = Periods.at(datetime(2026, 5, 10, 12, tzinfo=ZoneInfo("UTC")).timestamp(), "UTC")


@pytest.mark.parametrize(
    ("limits", "spending", "expected"),
    [
        (BudgetLimits(), Spending(9, 9, 9), None),
        (BudgetLimits(user_daily=5), Spending(user_today=4.99), None),
        (BudgetLimits(user_daily=5), Spending(user_today=5), Budget.USER_DAILY),
        (BudgetLimits(channel_daily=10), Spending(channel_today=12), Budget.CHANNEL_DAILY),
        (BudgetLimits(monthly=100), Spending(month=100.5), Budget.MONTHLY),
        (BudgetLimits(user_daily=0), Spending(), Budget.USER_DAILY),  # 0: nothing may run
        (BudgetLimits(user_daily=5, monthly=1), Spending(user_today=6, month=2), Budget.USER_DAILY),
    ],
)
def test_a_used_up_budget_is_named_with_what_was_spent(
    limits: BudgetLimits, spending: Spending, expected: Budget | None
) -> None:
    found = exhausted_budget(limits=limits, spending=spending, periods=PERIODS)
    assert (found.budget if found else None) is expected
    if found is not None:
        renews = PERIODS.month_end if expected is Budget.MONTHLY else PERIODS.day_end
        assert found.renews_at == renews


def facts(**kw: object) -> Facts:
    values: dict[str, object] = dict(
        policy=OPEN, channel_enabled=None, model="gpt-5.5", model_priced=True,
        limits=BudgetLimits(), spending=Spending(), periods=PERIODS,
    )  # fmt: skip
    values.update(kw)
    return Facts(**values)  # type: ignore[arg-type]


ASKER = Asker(user="U1", user_team="T1", home_teams=HOME, channel="C1", channel_type="channel")
LIMITS = Limits(max_running=3, max_waiting=10, max_question_chars=100)


def test_admission_refuses_an_unpriced_model_only_while_a_budget_is_set() -> None:
    unpriced = facts(model="my-model", model_priced=False)
    assert admission_for(
        question_chars=5, load=UserLoad(), limits=LIMITS, asker=ASKER, facts=unpriced
    ) == Admission(Verdict.RUN)
    budgeted = facts(model="my-model", model_priced=False, limits=BudgetLimits(monthly=50))
    decided = admission_for(
        question_chars=5, load=UserLoad(), limits=LIMITS, asker=ASKER, facts=budgeted
    )
    assert decided == Admission(Verdict.REFUSE, UNKNOWN_PRICE, "my-model")


def test_access_comes_before_length_and_budgets_before_the_persons_load() -> None:
    off = facts(channel_enabled=False, limits=BudgetLimits(user_daily=1), spending=Spending(2))
    decided = admission_for(
        question_chars=500, load=UserLoad(), limits=LIMITS, asker=ASKER, facts=off
    )
    assert decided.detail is Refusal.CHANNEL_OFF and decided.refused_by_access
    spent = facts(limits=BudgetLimits(user_daily=1), spending=Spending(2))
    busy = UserLoad(running=3, waiting=10)
    decided = admission_for(question_chars=5, load=busy, limits=LIMITS, asker=ASKER, facts=spent)
    assert decided.reason == BUDGET_EXHAUSTED and not decided.refused_by_access


# ---------------------------------------------------------------- prices


def test_bundled_prices_count_only_an_exact_or_dated_match() -> None:
    prices = Prices()
    usage = Usage(input_tokens=1_000, output_tokens=500)
    assert prices.token_cost("gpt-5.5", usage) == pytest.approx(1_000 * 5e-6 + 500 * 30e-6)
    assert prices.token_cost("gpt-5.5-2026-04-23", usage) == prices.token_cost("gpt-5.5", usage)
    # genai-prices would answer gpt-5.6-sol's price for gpt-5.6: a relative is not the model.
    assert prices.token_cost("gpt-5.6", usage) is None
    assert prices.token_cost("gpt-6.2-mini", usage) is None
    assert prices.knows("gpt-6-sol") and not prices.knows("gpt-5.6")


def test_cached_input_and_reasoning_are_priced_once() -> None:
    prices = Prices()
    plain = prices.token_cost("gpt-5.5", Usage(input_tokens=1_000, output_tokens=500))
    detailed = Usage(
        input_tokens=1_000, cached_input_tokens=800, output_tokens=500, reasoning_tokens=400
    )
    cost = prices.token_cost("gpt-5.5", detailed)
    assert plain is not None and cost is not None
    # 800 cached tokens at a tenth of the price; reasoning is inside output, not added.
    assert cost == pytest.approx(plain - 800 * 5e-6 + 800 * 0.5e-6)


def test_an_unknown_price_is_logged_once_per_model(caplog: pytest.LogCaptureFixture) -> None:
    prices = Prices()
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert prices.token_cost("gpt-6.2-mini", Usage(input_tokens=1)) is None
    warnings = [r for r in caplog.records if "gpt-6.2-mini" in r.getMessage()]
    assert len(warnings) == 1 and "INSIGHTBOT_PRICES" in warnings[0].getMessage()


def test_a_price_file_overrides_and_adds_prices(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "my-model": {"input": 2.0, "cached_input": 0.2, "output": 8.0},
                "GPT-5.5": {"input": 1.0, "output": 1.0},
                "container:1g": {"per_minute": 0.01},
            }
        )
    )
    tokens, containers = load_price_file(path)
    prices = Prices(overrides=tokens, container_rates=containers)
    usage = Usage(input_tokens=1_000_000, cached_input_tokens=500_000, output_tokens=1_000_000)
    assert prices.token_cost("my-model", usage) == pytest.approx(1.0 + 0.1 + 8.0)
    assert prices.token_cost("gpt-5.5", usage) == pytest.approx(2.0)  # no cached rate: input's
    assert prices.container_rate("1g") == 0.01 and prices.container_rate("4g") == 0.006


@pytest.mark.parametrize(
    "content",
    ["not json", "[1]", '{"m": 3}', '{"m": {"input": 1}}', '{"m": {"input": -1, "output": 1}}',
     '{"container:1g": {"per_minute": "cheap"}}'],
)  # fmt: skip
def test_a_bad_price_file_stops_the_start_naming_the_entry(tmp_path: Path, content: str) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match="INSIGHTBOT_PRICES"):
        load_price_file(path)


def test_token_price_from_a_price_table() -> None:
    assert (
        TokenPrice(input=1.0, output=2.0).cost(Usage(input_tokens=10**6, output_tokens=10**6))
        == 3.0
    )


@pytest.mark.parametrize(
    ("created", "last_use", "ended", "minutes"),
    [
        (0.0, None, 120.0, 22.0),  # first use: its time so far and the 20-minute idle tail
        (0.0, None, 3600.0, 80.0),
        (0.0, 600.0, 1200.0, 10.0),  # a later turn: from the previous turn's end
        (0.0, 600.0, 660.0, 5.0),  # at least 5 minutes
        (1000.0, 600.0, 1200.0, 23.333333),  # an older container's use does not count
    ],
)
def test_sandbox_time_is_estimated_from_creation_or_last_use(
    created: float, last_use: float | None, ended: float, minutes: float
) -> None:
    estimate = container_minutes_for(created_at=created, last_use=last_use, ended_at=ended)
    assert estimate == pytest.approx(minutes)


def test_the_safety_identifier_is_a_stable_hash_of_the_asker() -> None:
    one = safety_identifier_for(team="T1", user="U1")
    assert (
        one
        == safety_identifier_for(team="T1", user="U1")
        != safety_identifier_for(team="T1", user="U2")
    )
    assert len(one) == 64 and "U1" not in one


# ---------------------------------------------------------------- settings


def test_governance_settings_are_read_and_checked() -> None:
    settings = load_settings(
        {
            "INSIGHTBOT_ALLOWED_CHANNELS": "C1, C2",
            "INSIGHTBOT_ALLOWED_USERS": "U1",
            "INSIGHTBOT_ALLOW_DMS": "false",
            "INSIGHTBOT_EXTERNAL_USERS": "allow",
            "INSIGHTBOT_USER_DAILY_USD": "2.5",
            "INSIGHTBOT_MONTHLY_USD": "100",
            "INSIGHTBOT_TIMEZONE": "Asia/Seoul",
        },
        dotenv_path=None,
    )
    assert settings.allowed_channels == {"C1", "C2"} and settings.allowed_users == {"U1"}
    assert not settings.allow_dms and settings.external_users == "allow"
    assert settings.user_daily_usd == 2.5 and settings.channel_daily_usd is None
    assert settings.any_budget and settings.timezone == "Asia/Seoul"
    defaults = load_settings({}, dotenv_path=None)
    assert defaults.allow_dms and defaults.external_users == "deny" and not defaults.any_budget


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("INSIGHTBOT_TIMEZONE", "Mars/Olympus"),
        ("INSIGHTBOT_USER_DAILY_USD", "-1"),
        ("INSIGHTBOT_MONTHLY_USD", "lots"),
        ("INSIGHTBOT_EXTERNAL_USERS", "maybe"),
        ("INSIGHTBOT_ALLOWED_CHANNELS", "#general"),
    ],
)
def test_bad_governance_settings_name_the_variable(env: str, value: str) -> None:
    with pytest.raises(ConfigError, match=env):
        load_settings({env: value}, dotenv_path=None)


async def test_the_upgrade_keeps_old_turns_costs_unknown_and_finds_their_channel(
    tmp_path: Path,
) -> None:
    from sqlite_utils import Database

    from storage import open_store
    from storage.migrations import migrations

    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m006_governance")
    common = dict(message_ts="1.0", user="U1", question="q", attempt=1, message_json="{}",
                  created_at=1.0, updated_at=1.0)  # fmt: skip
    db["turns"].insert_all(
        [
            {
                **common,
                "id": "a",
                "thread_key": "T1:C7:1.0",
                "status": "done",
                "input_tokens": 900,
                "output_tokens": 100,
            },
            {
                **common,
                "id": "r",
                "thread_key": "T1:D2:5.5",
                "status": "refused",
                "input_tokens": 0,
                "output_tokens": 0,
            },
        ]
    )
    db.close()
    store = await open_store(path)
    try:
        answered, refused = await store.get_turn("a"), await store.get_turn("r")
        assert answered is not None and refused is not None
        assert (answered.channel, answered.cost_usd) == ("C7", None)  # never a made-up zero
        assert (refused.channel, refused.cost_usd) == ("D2", 0.0)
        [row] = await store.usage_report(since=0, by="channel", limit=1)
        assert row.key == "C7" and row.unknown_cost_turns == 1
    finally:
        await store.close()
