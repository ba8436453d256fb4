"""Why a recurring analysis was paused, told to its channel, its owner and the admins, in
Korean and English.

Pure functions taking ``lang`` first, like every entry of the catalogue. ``reason`` is a
schedule's ``paused_reason`` (bot/schedules/access_rules.py ``PauseReason``). People are named,
never mentioned: a notice pings nobody.
"""

from __future__ import annotations

from bot.messages._lang import pick

_REASONS_EN = {
    "owner_left": "the person who made it is no longer an active member of this workspace",
    "not_member": "the person who made it is no longer a member of the channel",
    "archived": "the channel was archived or deleted",
    "access_denied": "the bot's access settings no longer let the person who made it use "
    "the bot in the channel",
    "failures": "its last three runs failed",
}
_REASONS_KO = {
    "owner_left": "만든 사람이 더 이상 이 워크스페이스의 활성 멤버가 아닙니다",
    "not_member": "만든 사람이 더 이상 채널 멤버가 아닙니다",
    "archived": "채널이 보관되었거나 삭제되었습니다",
    "access_denied": "봇의 접근 설정상 만든 사람이 더 이상 이 채널에서 봇을 쓸 수 없습니다",
    "failures": "최근 세 번의 실행이 연달아 실패했습니다",
}


def schedule_pause_cause(lang: str, reason: str) -> str:
    return pick(
        lang,
        _REASONS_EN.get(reason, "it could not run"),
        _REASONS_KO.get(reason, "실행할 수 없었습니다"),
    )


def schedule_paused_in_channel(lang: str, question: str, reason: str) -> str:
    why = schedule_pause_cause(lang, reason)
    return pick(
        lang,
        f"The scheduled analysis “{question}” is paused: {why}. The person who made it or an "
        "admin can resume it in my App Home (the Home tab).",
        f"예약 분석 “{question}”을(를) 일시 중지했습니다: {why}. 만든 사람이나 관리자가 제 앱 "
        "홈(홈 탭)에서 다시 시작할 수 있어요.",
    )


def schedule_paused_for_owner(lang: str, question: str, channel: str, reason: str) -> str:
    why = schedule_pause_cause(lang, reason)
    return pick(
        lang,
        f"Your scheduled analysis “{question}” in channel {channel} is paused: {why}. Once "
        "that is fixed, you can resume it in my App Home (the Home tab).",
        f"채널 {channel}의 예약 분석 “{question}”을(를) 일시 중지했습니다: {why}. 문제가 "
        "해결되면 제 앱 홈(홈 탭)에서 다시 시작할 수 있어요.",
    )


def schedule_paused_for_admin(
    lang: str, question: str, channel: str, owner: str, reason: str
) -> str:
    why = schedule_pause_cause(lang, reason)
    return pick(
        lang,
        f"The scheduled analysis “{question}” that {owner} made in channel {channel} is "
        f"paused: {why}. You can resume or delete it in my App Home (the Home tab).",
        f"{owner} 님이 채널 {channel}에 만든 예약 분석 “{question}”을(를) 일시 중지했습니다: "
        f"{why}. 제 앱 홈(홈 탭)에서 다시 시작하거나 삭제할 수 있어요.",
    )
