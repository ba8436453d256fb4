"""The App Home: the Home tab a person sees when they open the bot, and the channel settings
modal admins open from it.

The Home view is built from sections, in order (``HOME_SECTIONS``): each is an async function
of a ``HomeContext`` that returns its blocks, so other features add a section of their own
without touching these. Everything is shown in the person's language (Slack's locale for them)
or, when Slack does not say, in both languages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot import messages as words
from bot.errors import InsightbotError
from bot.governance import Periods
from bot.schedules_home import schedules_section
from bot.services import Services
from bot.slack.blocks import section_block
from storage.records import ChannelSetting, UsageRow

__all__ = [
    "CHANNEL_SETTINGS_CALLBACK",
    "EDIT_CHANNEL_ACTION",
    "HOME_SECTIONS",
    "ChannelSettingsForm",
    "HomeContext",
    "HomeSection",
    "channel_settings_modal",
    "home_view",
    "lang_of_locale",
    "open_channel_settings",
    "publish_home",
    "save_channel_settings",
    "set_messages_tab_prompts",
]

log = logging.getLogger(__name__)

EDIT_CHANNEL_ACTION = "home_edit_channel"  # value: a channel id, or "" for a new one
CHANNEL_SETTINGS_CALLBACK = "channel_settings"
MAX_VIEW_BLOCKS = 100  # Slack's limit for a Home tab
TOP = 5  # people and channels in the admins' tables
SHOWN_CHANNEL_SETTINGS = 20


@dataclass(frozen=True)
class HomeContext:
    """Who is looking, in which language (None: both), and when."""

    services: Services
    user: str
    lang: str | None
    is_admin: bool
    now: float

    @property
    def periods(self) -> Periods:
        return Periods.at(self.now, self.services.settings.timezone)


HomeSection = Callable[[HomeContext], Awaitable[list[dict[str, Any]]]]


def lang_of_locale(locale: str | None) -> str | None:
    """'ko' or 'en' from a Slack locale; None (both languages) when there is none."""
    if not locale:
        return None
    return "ko" if locale.lower().startswith("ko") else "en"


# ---------------------------------------------------------------- sections


async def guide_section(ctx: HomeContext) -> list[dict[str, Any]]:
    """What the bot can do, with an example question."""
    return [section_block(words.home_guide(ctx.lang)), {"type": "divider"}]


async def usage_section(ctx: HomeContext) -> list[dict[str, Any]]:
    """The person's own usage this month and what is left of their daily budget."""
    store, periods = ctx.services.store, ctx.periods
    rows = await store.usage_report(
        since=periods.month_start, by="user", user=ctx.user, timezone=_zone(ctx)
    )
    mine = rows[0] if rows else UsageRow(key=ctx.user)
    usage = words.home_your_usage(
        ctx.lang,
        questions=mine.turns,
        cost=mine.cost_usd,
        unknown=mine.unknown_cost_turns,
        up=mine.thumbs_up,
        down=mine.thumbs_down,
    )
    limit = ctx.services.settings.user_daily_usd
    spent = 0.0
    if limit is not None:
        spent = await store.spent_since(since=periods.day_start, user=ctx.user)
    budget = words.home_daily_budget(ctx.lang, limit=limit, spent=spent)
    return [section_block(f"{usage}\n{budget}")]


async def admin_section(ctx: HomeContext) -> list[dict[str, Any]]:
    """For admins: the month's top people and channels with cost, and channel settings."""
    if not ctx.is_admin:
        return []
    store, since, lang = ctx.services.store, ctx.periods.month_start, ctx.lang
    people = await store.usage_report(since=since, by="user", limit=TOP, timezone=_zone(ctx))
    channels = await store.usage_report(since=since, by="channel", limit=TOP, timezone=_zone(ctx))
    blocks: list[dict[str, Any]] = [
        {"type": "divider"},
        {"type": "header", "text": {"type": "plain_text", "text": words.home_admin_title(lang)}},
        section_block(words.home_top_users(lang)),
        _table(people, kind="user", lang=lang),
        section_block(words.home_top_channels(lang)),
        _table(channels, kind="channel", lang=lang),
        section_block(words.home_channel_settings_title(lang)),
    ]
    settings = sorted((await ctx.services.governance.channels.all()).values(), key=_newest)
    if not settings:
        blocks.append(section_block(words.home_no_channel_settings(lang)))
    for setting in settings[:SHOWN_CHANNEL_SETTINGS]:
        blocks.append(_setting_line(setting, lang))
        blocks.append(_edit_button(words.edit_label(lang), channel=setting.channel))
    blocks.append(_edit_button(words.set_up_channel_label(lang), channel=""))
    return blocks


# A person's schedules come before the admins' tables, so the Home's block limit never hides them.
HOME_SECTIONS: tuple[HomeSection, ...] = (
    guide_section,
    usage_section,
    schedules_section,
    admin_section,
)


def _zone(ctx: HomeContext) -> str:
    return ctx.services.settings.timezone


def _newest(setting: ChannelSetting) -> float:
    return -setting.updated_at


def _table(rows: Sequence[UsageRow], *, kind: str, lang: str | None) -> dict[str, Any]:
    """People or channels as Slack shows them (user/channel elements: no markup to escape)."""
    if not rows:
        return section_block(words.home_nothing_yet(lang))
    items = []
    for row in rows:
        name = (
            {"type": "user", "user_id": row.key}
            if kind == "user"
            else {"type": "channel", "channel_id": row.key}
        )
        figures = words.home_usage_line(
            lang,
            cost=row.cost_usd,
            questions=row.turns,
            up=row.thumbs_up,
            down=row.thumbs_down,
            unknown=row.unknown_cost_turns,
        )
        items.append(
            {"type": "rich_text_section", "elements": [name, {"type": "text", "text": figures}]}
        )
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_list", "style": "bullet", "elements": items}],
    }


def _setting_line(setting: ChannelSetting, lang: str | None) -> dict[str, Any]:
    line = words.home_channel_setting_line(
        lang, enabled=setting.enabled, model=setting.model, daily_usd=setting.daily_usd
    )
    return {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "channel", "channel_id": setting.channel},
                    {"type": "text", "text": line},
                ],
            }
        ],
    }


def _edit_button(label: str, *, channel: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": f"{EDIT_CHANNEL_ACTION}:{channel or 'new'}",
        "elements": [
            {
                "type": "button",
                "action_id": EDIT_CHANNEL_ACTION,
                "text": {"type": "plain_text", "text": label, "emoji": True},
                "value": channel,
            }
        ],
    }


async def home_view(
    ctx: HomeContext, sections: Sequence[HomeSection] = HOME_SECTIONS
) -> dict[str, Any]:
    """The Home tab for ``ctx.user``: every section's blocks, in order, within Slack's limit."""
    blocks: list[dict[str, Any]] = []
    for section in sections:
        blocks.extend(await section(ctx))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


async def publish_home(*, services: Services, user: str, now: float | None = None) -> None:
    """Build and publish ``user``'s Home tab. Never raises: a failure is logged."""
    try:
        lang = lang_of_locale(await services.slack.user_locale(user))
        ctx = HomeContext(
            services=services,
            user=user,
            lang=lang,
            is_admin=user in services.settings.admins,
            now=time.time() if now is None else now,
        )
        await services.slack.publish_view(user=user, view=await home_view(ctx))
    except InsightbotError as error:
        log.warning("could not publish the Home tab of %s: %s", user, error.detail)


async def set_messages_tab_prompts(*, services: Services, user: str, channel: str) -> None:
    """Show ``user`` suggested prompts in their language when they open the Messages tab
    (the DM ``channel``). Never raises: a failure is logged.

    Set per person rather than in the manifest, whose prompts are the same for everyone and
    so cannot follow a person's language.
    """
    try:
        lang = lang_of_locale(await services.slack.user_locale(user))
        await services.slack.set_suggested_prompts(
            channel=channel,
            prompts=words.messages_tab_prompts(lang),
            title=words.messages_tab_prompts_title(lang),
        )
    except InsightbotError as error:
        log.warning("could not set the suggested prompts of %s: %s", user, error.detail)


# ---------------------------------------------------------------- the channel settings modal


@dataclass(frozen=True)
class ChannelSettingsForm:
    """A submitted channel settings modal, as typed (checked by ``save_channel_settings``)."""

    user: str
    channel: str
    enabled: str  # "default", "on" or "off"
    model: str
    daily_usd: str


def channel_settings_modal(
    lang: str | None, *, setting: ChannelSetting | None, default_model: str
) -> dict[str, Any]:
    """The modal for one channel's settings (``setting``: its current ones, if any)."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": value}
        for value, label in words.modal_enabled_options(lang)
    ]
    state = (
        "default"
        if setting is None or setting.enabled is None
        else ("on" if setting.enabled else "off")
    )
    conversation: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": "channel",
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    model: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": "model",
        "placeholder": {"type": "plain_text", "text": default_model or "-"},
    }
    daily: dict[str, Any] = {
        "type": "number_input",
        "action_id": "daily_usd",
        "is_decimal_allowed": True,
        "min_value": "0",
    }
    if setting is not None:
        conversation["initial_conversation"] = setting.channel
        if setting.model:
            model["initial_value"] = setting.model
        if setting.daily_usd is not None:
            daily["initial_value"] = f"{setting.daily_usd:g}"
    return {
        "type": "modal",
        "callback_id": CHANNEL_SETTINGS_CALLBACK,
        "title": {"type": "plain_text", "text": words.modal_title(lang)},
        "submit": {"type": "plain_text", "text": words.modal_submit(lang)},
        "close": {"type": "plain_text", "text": words.modal_close(lang)},
        "blocks": [
            _input("channel", words.modal_channel_label(lang), conversation),
            _input(
                "enabled",
                words.modal_enabled_label(lang),
                {
                    "type": "static_select",
                    "action_id": "enabled",
                    "options": options,
                    "initial_option": next(o for o in options if o["value"] == state),
                },
            ),
            _input("model", words.modal_model_label(lang), model, optional=True),
            _input("daily_usd", words.modal_daily_label(lang), daily, optional=True),
        ],
    }


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }


async def open_channel_settings(
    *, services: Services, user: str, trigger_id: str, channel: str
) -> None:
    """Open the channel settings modal for an admin (``channel``: "" for a new one); others
    get nothing. Never raises: a failure is logged."""
    if user not in services.settings.admins:
        log.warning("%s is not an admin: no channel settings modal", user)
        return
    try:
        lang = lang_of_locale(await services.slack.user_locale(user))
        setting = await services.governance.channels.get(channel) if channel else None
        if setting is None and channel:
            setting = ChannelSetting(channel=channel)
        view = channel_settings_modal(
            lang, setting=setting, default_model=services.governance.default_model
        )
        await services.slack.open_view(trigger_id=trigger_id, view=view)
    except InsightbotError as error:
        log.warning("could not open the channel settings of %s: %s", channel, error.detail)


async def save_channel_settings(
    *, services: Services, form: ChannelSettingsForm, lang: str | None = None
) -> dict[str, str]:
    """Store a submitted modal; returns errors by block id for the modal (empty: saved).

    Only admins may; the change is seen by the running bot at once and by other processes
    within a minute. Raises StorageError.
    """
    if form.user not in services.settings.admins:
        return {"channel": words.modal_not_admin(lang)}
    daily: float | None = None
    if form.daily_usd.strip():
        try:
            daily = float(form.daily_usd)
        except ValueError:
            daily = -1.0
        if not daily >= 0 or daily == float("inf"):
            return {"daily_usd": words.modal_bad_amount(lang)}
    enabled = {"on": True, "off": False}.get(form.enabled)
    await services.governance.channels.change(
        form.channel,
        by=form.user,
        enabled=enabled,
        model=form.model.strip() or None,
        daily_usd=daily,
    )
    log.info(
        "channel %s settings changed by %s: enabled=%s model=%s daily_usd=%s",
        form.channel,
        form.user,
        enabled,
        form.model.strip() or None,
        daily,
    )
    return {}
