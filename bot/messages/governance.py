"""The texts of governance in Slack — access refusals, budgets, prices, feedback, the App
Home and its channel settings — in the asker's language (Korean or English).

Pure functions taking ``lang`` first; mentions and dates only through the trusted markers
(bot/slack/neutralize.py).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.messages._lang import pick
from bot.slack.neutralize import trusted_date, trusted_mention


def _both(en: str, ko: str) -> str:
    return f"{ko}\n{en}"


def _admins(lang: str, admins: Collection[str]) -> str:
    named = [m for m in (trusted_mention(a) for a in sorted(admins)) if m]
    if not named:
        return pick(lang, "the person who runs this bot", "이 봇을 운영하는 분")
    return ", ".join(named)


def _usd(amount: float) -> str:
    return f"${amount:,.2f}"


def _when(moment: datetime) -> str:
    """Slack's date token for ``moment`` (each reader's own time zone), with a fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M %Z").strip()
    return trusted_date(int(moment.timestamp()), fallback.replace("+", ""))


# ---------------------------------------------------------------- access


def not_enabled_here(lang: str, admins: Collection[str]) -> str:
    who = _admins(lang, admins)
    return pick(
        lang,
        f"I'm not enabled in this conversation, so I did not look at your question or its "
        f"files. To use me here, ask {who}.",
        f"이 대화에서는 제가 켜져 있지 않아서 질문과 파일을 보지 않았어요. 여기서 쓰려면 {who}에게 "
        "요청해 주세요.",
    )


def not_enabled_for_you(lang: str, admins: Collection[str]) -> str:
    who = _admins(lang, admins)
    return pick(
        lang,
        f"I'm not enabled for you yet, so I did not look at your question or its files. "
        f"To get access, ask {who}.",
        f"아직 이 계정으로는 저를 쓸 수 없어서 질문과 파일을 보지 않았어요. 사용 권한은 {who}에게 "
        "요청해 주세요.",
    )


def external_not_allowed(lang: str, admins: Collection[str]) -> str:
    who = _admins(lang, admins)
    return pick(
        lang,
        f"I only answer people of the organisation that installed me, so I did not look at "
        f"your question or its files. {who} can change that.",
        f"저를 설치한 조직의 구성원에게만 답할 수 있어서 질문과 파일을 보지 않았어요. {who}에게 "
        "문의해 주세요.",
    )


# ---------------------------------------------------------------- budgets and prices


def budget_name(lang: str, budget: str) -> str:
    """``budget``: user_daily, channel_daily or monthly (bot.governance.Budget values)."""
    names = {
        "user_daily": ("your daily budget", "오늘 개인 예산"),
        "channel_daily": ("this channel's daily budget", "이 채널의 오늘 예산"),
        "monthly": ("the workspace's monthly budget", "워크스페이스의 이번 달 예산"),
    }
    en, ko = names[budget]
    return pick(lang, en, ko)


def budget_used_up(
    lang: str, *, budget: str, spent: float, limit: float, renews_at: datetime
) -> str:
    name = budget_name(lang, budget)
    return pick(
        lang,
        f"I can't start this analysis: {name} is used up ({_usd(spent)} spent of "
        f"{_usd(limit)}). It renews {_when(renews_at)}. Nothing was sent for analysis.",
        f"{name}({_usd(limit)})을 모두 써서 이 분석을 시작할 수 없어요(사용: {_usd(spent)}). "
        f"{_when(renews_at)}에 다시 채워져요. 분석을 위해 보낸 것은 없어요.",
    )


def budget_used_up_in_thread(lang: str) -> str:
    return pick(
        lang,
        "A spending budget is used up, so I did not start this analysis; the person who asked "
        "has the details.",
        "사용 예산이 소진되어 이 분석을 시작하지 않았어요. 자세한 내용은 질문하신 분께 따로 "
        "알려 드렸어요.",
    )


def unknown_price(lang: str, model: str) -> str:
    return pick(
        lang,
        f"I can't start this analysis: budgets are set, but I know no price for the model "
        f"`{model}`, so I could not count what it costs. The operator can add its price in "
        "the file named by INSIGHTBOT_PRICES.",
        f"예산이 설정되어 있는데 `{model}` 모델의 가격을 몰라 비용을 셀 수 없어서 이 분석을 "
        "시작할 수 없어요. 운영자가 INSIGHTBOT_PRICES 파일에 가격을 추가하면 돼요.",
    )


# ---------------------------------------------------------------- feedback


def feedback_labels(lang: str) -> tuple[str, str]:
    """Screen-reader labels of the 👍 and 👎 buttons."""
    return (
        pick(lang, "This answer helped", "도움이 된 답변이에요"),
        pick(lang, "This answer did not help", "도움이 안 된 답변이에요"),
    )


def feedback_thanks(lang: str, *, positive: bool) -> str:
    if positive:
        return pick(lang, "Thanks for the feedback! 🙌", "피드백 고마워요! 🙌")
    return pick(
        lang,
        "Thanks for telling me. Asking again with more detail in this thread often helps.",
        "알려 주셔서 고마워요. 이 스레드에서 조금 더 자세히 다시 물어보시면 도움이 될 때가 많아요.",
    )


# ---------------------------------------------------------------- the App Home


def home_guide(lang: str | None) -> str:
    en = (
        "*What I do*\nShare CSV, Excel, JSON or Parquet files in a thread, mention me and "
        "ask in plain words. I run Python on your data in a private sandbox and answer in "
        "the thread with text, tables and charts. Follow-up questions in the thread need no "
        'new mention.\n_Example:_ "@insightbot which region grew fastest last quarter? '
        'Draw a bar chart."'
    )
    ko = (
        "*할 수 있는 일*\n스레드에 CSV, 엑셀, JSON, Parquet 파일을 올리고 저를 멘션해 편하게 "
        "물어보세요. 격리된 환경에서 데이터를 파이썬으로 분석해 같은 스레드에 글, 표, 차트로 "
        '답해요. 같은 스레드의 후속 질문은 다시 멘션하지 않아도 돼요.\n_예시:_ "@insightbot '
        '지난 분기에 가장 빨리 성장한 지역은? 막대 차트로 보여 줘."'
    )
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def home_your_usage(
    lang: str | None, *, questions: int, cost: float, unknown: int, up: int, down: int
) -> str:
    extra_en = f" (and {unknown} at an unknown price)" if unknown else ""
    extra_ko = f" (가격을 모르는 {unknown}건 제외)" if unknown else ""
    en = (
        f"*Your usage this month*\n{questions} questions, {_usd(cost)}{extra_en}. "
        f"Feedback on your answers: 👍 {up} · 👎 {down}"
    )
    ko = (
        f"*이번 달 내 사용량*\n질문 {questions}건, {_usd(cost)}{extra_ko}. "
        f"내 답변에 받은 피드백: 👍 {up} · 👎 {down}"
    )
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def home_daily_budget(lang: str | None, *, limit: float | None, spent: float) -> str:
    if limit is None:
        en, ko = "No daily budget is set for you.", "개인 일일 예산은 설정되어 있지 않아요."
    else:
        left = max(0.0, limit - spent)
        en = f"Left today: {_usd(left)} of your {_usd(limit)} daily budget."
        ko = f"오늘 남은 예산: 일일 예산 {_usd(limit)} 중 {_usd(left)}"
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def home_admin_title(lang: str | None) -> str:
    en, ko = "For admins: this month", "관리자용: 이번 달"
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def home_top_users(lang: str | None) -> str:
    en, ko = "*Top people*", "*많이 쓴 사람*"
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def home_top_channels(lang: str | None) -> str:
    en, ko = "*Top channels*", "*많이 쓴 채널*"
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def home_usage_line(
    lang: str | None, *, cost: float, questions: int, up: int, down: int, unknown: int
) -> str:
    """The figures after a name in the admins' tables (the name is its own element)."""
    extra_en = f", {unknown} unpriced" if unknown else ""
    extra_ko = f", 가격 미상 {unknown}건" if unknown else ""
    en = f" — {_usd(cost)}, {questions} questions{extra_en}, 👍 {up} 👎 {down}"
    ko = f" — {_usd(cost)}, 질문 {questions}건{extra_ko}, 👍 {up} 👎 {down}"
    return (
        f" — {_usd(cost)} · {questions} · 👍 {up} 👎 {down}" if lang is None else pick(lang, en, ko)
    )


def home_nothing_yet(lang: str | None) -> str:
    en, ko = "Nothing yet this month.", "이번 달에는 아직 없어요."
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def home_channel_settings_title(lang: str | None) -> str:
    en, ko = "*Channel settings*", "*채널 설정*"
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def home_channel_setting_line(
    lang: str | None, *, enabled: bool | None, model: str | None, daily_usd: float | None
) -> str:
    """A channel's own settings after its name (the name is its own element)."""

    def one(lang: str) -> str:
        state = {
            None: pick(lang, "default", "기본값"),
            True: pick(lang, "on", "켜짐"),
            False: pick(lang, "off", "꺼짐"),
        }[enabled]
        shown_model = model or pick(lang, "default model", "기본 모델")
        budget = _usd(daily_usd) if daily_usd is not None else pick(lang, "default", "기본값")
        return pick(
            lang,
            f" — {state}, {shown_model}, daily budget {budget}",
            f" — {state}, {shown_model}, 일일 예산 {budget}",
        )

    return one("en") if lang is None else one(lang)


def home_no_channel_settings(lang: str | None) -> str:
    en = "No channel has its own settings; every channel follows the global ones."
    ko = "채널별 설정이 없어요. 모든 채널이 전체 설정을 따라요."
    return _both(en, ko) if lang is None else pick(lang, en, ko)


def edit_label(lang: str | None) -> str:
    en, ko = "Edit", "수정"
    return f"{ko} / {en}" if lang is None else pick(lang, en, ko)


def set_up_channel_label(lang: str | None) -> str:
    en, ko = "Change a channel's settings", "채널 설정 바꾸기"
    return f"{ko} / {en}" if lang is None else pick(lang, en, ko)


# ---------------------------------------------------------------- the Messages tab (agent view)

# (title, message) of the suggested prompts shown when a person opens the Messages tab. A click
# sends the message as the person's own; it uses the file they shared last in the DM, and a
# person who has shared none is told to attach one.
_PROMPTS_EN = (
    (
        "Summarise my data",
        "Summarise the data file I shared last: its columns, rows, missing values and "
        "anything unusual.",
    ),
    ("Chart a trend", "Draw a line chart of the monthly totals in the file I shared last."),
    (
        "Compare groups",
        "Which group has the highest average in the file I shared last? Show it as a table.",
    ),
)
_PROMPTS_KO = (
    ("데이터 요약", "마지막으로 올린 데이터 파일을 요약해 줘. 열, 행 수, 빈 값, 눈에 띄는 점까지."),
    ("추세 차트", "마지막으로 올린 파일의 월별 합계를 선 차트로 그려 줘."),
    ("그룹 비교", "마지막으로 올린 파일에서 평균이 가장 높은 그룹은? 표로 보여 줘."),
)


def messages_tab_prompts_title(lang: str | None) -> str:
    """The heading over the suggested prompts of the Messages tab."""
    en, ko = "Try asking", "이렇게 물어보세요"
    return f"{ko} · {en}" if lang is None else pick(lang, en, ko)


def messages_tab_prompts(lang: str | None) -> tuple[tuple[str, str], ...]:
    """(title, message) of each suggested prompt; Slack shows at most four, so a person
    whose language Slack does not tell gets two in Korean and two in English."""
    if lang is None:
        return _PROMPTS_KO[:2] + _PROMPTS_EN[:2]
    return _PROMPTS_KO if lang == "ko" else _PROMPTS_EN


# ---------------------------------------------------------------- the channel settings modal


def modal_title(lang: str | None) -> str:
    en, ko = "Channel settings", "채널 설정"
    return ko if lang == "ko" else en


def modal_submit(lang: str | None) -> str:
    return pick(lang or "en", "Save", "저장")


def modal_close(lang: str | None) -> str:
    return pick(lang or "en", "Cancel", "취소")


def modal_channel_label(lang: str | None) -> str:
    return pick(lang or "en", "Channel", "채널")


def modal_enabled_label(lang: str | None) -> str:
    return pick(lang or "en", "Bot in this channel", "이 채널에서 봇 사용")


def modal_enabled_options(lang: str | None) -> tuple[tuple[str, str], ...]:
    """(value, label) of each choice; ``default`` follows the global settings."""
    lang = lang or "en"
    return (
        ("default", pick(lang, "As the global settings say", "전체 설정대로")),
        ("on", pick(lang, "On", "켜기")),
        ("off", pick(lang, "Off", "끄기")),
    )


def modal_model_label(lang: str | None) -> str:
    return pick(lang or "en", "Model (empty: the default model)", "모델 (비우면 기본 모델)")


def modal_daily_label(lang: str | None) -> str:
    return pick(
        lang or "en",
        "Daily budget in US dollars (empty: the default)",
        "일일 예산, 미국 달러 (비우면 기본값)",
    )


def modal_bad_amount(lang: str | None) -> str:
    return pick(lang or "en", "Give an amount like 5 or 2.50.", "5나 2.50처럼 금액을 적어 주세요.")


def modal_not_admin(lang: str | None) -> str:
    return pick(
        lang or "en",
        "Only the bot's admins (INSIGHTBOT_ADMINS) can change channel settings.",
        "채널 설정은 봇 관리자(INSIGHTBOT_ADMINS)만 바꿀 수 있어요.",
    )
