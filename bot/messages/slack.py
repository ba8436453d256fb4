"""What the bot says when Slack refused or failed one of its own calls (``SlackProblem``)."""

from __future__ import annotations

from bot.messages._lang import pick


def slack_reply_refused(lang: str) -> str:
    return pick(
        lang,
        "Slack did not accept my reply. Please try again in a moment.",
        "Slack이 제 답장을 받지 않았어요. 잠시 후 다시 시도해 주세요.",
    )


def slack_not_in_channel(lang: str) -> str:
    return pick(
        lang,
        "I can't reach this conversation. Please invite the app to the channel "
        "(`/invite @app`) and ask again.",
        "이 대화에 접근할 수 없어요. 앱을 채널에 초대하고(`/invite @앱이름`) 다시 물어봐 주세요.",
    )


def slack_token_refused(lang: str) -> str:
    return pick(
        lang,
        "Slack refused the app's token. An administrator needs to check SLACK_BOT_TOKEN.",
        "Slack이 앱의 토큰을 거부했어요. 관리자가 SLACK_BOT_TOKEN을 확인해야 해요.",
    )


def slack_channel_archived(lang: str) -> str:
    return pick(
        lang,
        "This channel is archived, so I can't reply in it.",
        "이 채널은 보관되어 있어서 답할 수 없어요.",
    )


def slack_rate_limited(lang: str) -> str:
    return pick(
        lang,
        "Slack is rate-limiting me right now. Please try again in a minute.",
        "지금 Slack이 요청 수를 제한하고 있어요. 1분쯤 뒤에 다시 시도해 주세요.",
    )


def slack_missing_scope(lang: str, scope: str | None) -> str:
    """The app lacks a Slack permission; ``scope`` is Slack's name for it when Slack said."""
    return pick(
        lang,
        f"The app is missing the Slack permission {scope or 'it needs'}. An administrator "
        "needs to add it to the app and reinstall it.",
        f"앱에 필요한 Slack 권한{f'({scope})' if scope else ''}이 없어요. 관리자가 앱에 권한을 "
        "추가하고 다시 설치해야 해요.",
    )
