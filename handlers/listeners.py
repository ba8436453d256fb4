"""Bolt listeners: acknowledge every subscribed event, and route button clicks.

Messages are taken in by the intake middleware (handlers/intake.py) before the ack; the event
listeners here exist so that every subscribed event is answered 200 (an unhandled event is
answered 404, and Slack redelivers it).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import messages
from bot.actions import Click, retry_turn, show_code, stop_turn
from bot.feedback import record_feedback
from bot.forget import ForgetRequest, forget_thread
from bot.home import (
    CHANNEL_SETTINGS_CALLBACK,
    EDIT_CHANNEL_ACTION,
    open_channel_settings,
    publish_home,
    save_channel_settings,
    set_messages_tab_prompts,
)
from bot.intake import Intake
from bot.lifecycle import Clock, SystemClock
from bot.schedule_modal import (
    SCHEDULE_EDIT_ACTION,
    SCHEDULE_MODAL_CALLBACK,
    open_edit_modal,
    open_repeat_modal,
    post_confirmation,
    submit_schedule_modal,
)
from bot.schedules_home import SCHEDULE_ACTIONS, ScheduleClick, apply_schedule_click
from bot.slack.blocks import (
    FEEDBACK_ACTION,
    REPEAT_ACTION,
    RETRY_ACTION,
    SHOW_CODE_ACTION,
    STOP_ACTION,
)
from bot.types import ThreadKey
from handlers.intake import intake_middleware
from handlers.manifest_facts import EVENT_TYPES_HANDLED, FORGET_SHORTCUT
from handlers.parse import (
    action_for,
    channel_settings_form_for,
    home_opened_for,
    schedule_submission_for,
    shortcut_for,
    view_action_for,
)

log = logging.getLogger(__name__)

# Event types Bolt dispatches on (manifest "message.im" etc. all arrive as "message").
HANDLED_EVENT_TYPES = tuple(sorted(set(EVENT_TYPES_HANDLED.values())))
HOME_OPENED = "app_home_opened"


async def _acknowledge(ack: Callable[[], Awaitable[None]] | None = None) -> None:
    """Nothing to do: the intake middleware already took the message in."""


def register(app: AsyncApp, *, intake: Intake, clock: Clock | None = None) -> None:
    app.use(intake_middleware(intake))
    runner = intake.runner
    services = intake.services
    # The schedule loop's clock: a resume counts occurrences from its now, and the Home's
    # next runs agree with it.
    schedule_clock = clock or SystemClock()
    for event_type in HANDLED_EVENT_TYPES:
        if event_type != HOME_OPENED:
            app.event(event_type)(_acknowledge)

    async def on_home_opened(body: dict[str, Any]) -> None:
        # One listener for the App Home, dispatching on the tab. The Messages tab (agent_view)
        # gets the person's suggested prompts; its messages arrive as message.im.
        opened = home_opened_for(body=body)
        if opened is None:
            return
        if opened.tab == "home":
            runner.spawn(
                publish_home(services=services, user=opened.user, now=schedule_clock.now())
            )
        elif opened.tab == "messages" and opened.channel:
            runner.spawn(
                set_messages_tab_prompts(
                    services=services, user=opened.user, channel=opened.channel
                )
            )

    app.event(HOME_OPENED)(on_home_opened)

    async def on_show_code(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        click = _click_of(body)
        if click is not None:
            runner.spawn(show_code(intake=intake, click=click))

    async def on_stop(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        click = _click_of(body)
        if click is not None:
            runner.spawn(stop_turn(intake=intake, click=click))

    async def on_retry(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        click = _click_of(body)
        if click is not None:
            runner.spawn(retry_turn(intake=intake, click=click))

    async def on_feedback(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        click = _click_of(body)
        if click is not None:
            runner.spawn(record_feedback(services=services, click=click))

    async def on_edit_channel(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        action = view_action_for(body=body)
        if action is not None:  # the trigger lives 3 s: open the modal now
            await open_channel_settings(
                services=services,
                user=action.user,
                trigger_id=action.trigger_id,
                channel=action.value,
            )

    async def on_channel_settings(
        ack: Callable[..., Awaitable[None]], body: dict[str, Any]
    ) -> None:
        form = channel_settings_form_for(body=body)
        if form is None:
            await ack()
            return
        errors = await save_channel_settings(services=services, form=form)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        runner.spawn(publish_home(services=services, user=form.user))

    async def on_forget(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        shortcut = shortcut_for(body=body)
        if shortcut is None:
            return
        request = ForgetRequest(
            thread=ThreadKey(
                team=shortcut.team, channel=shortcut.channel, thread_ts=shortcut.thread_ts
            ),
            user=shortcut.user,
            lang=messages.language_of(shortcut.text),
        )
        runner.spawn(forget_thread(intake=intake, request=request))

    async def on_repeat(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        request = action_for(body=body)
        click = _click_of(body)
        if click is not None and request is not None and request.trigger_id:
            # The trigger lives 3 s: a task that starts now (never queued behind turns).
            runner.spawn(
                open_repeat_modal(services=services, click=click, trigger_id=request.trigger_id)
            )

    async def on_schedule_edit(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        action = view_action_for(body=body)
        if action is not None:  # as above: started at once
            runner.spawn(
                open_edit_modal(
                    services=services,
                    user=action.user,
                    trigger_id=action.trigger_id,
                    schedule_id=action.value,
                )
            )

    async def on_schedule_modal(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        # Slack wants the errors in the acknowledgement itself, so the checks (one users.info,
        # conversations.members, one insert) run before it; the confirmation posts after.
        submission = schedule_submission_for(body=body)
        if submission is None:
            await ack()
            return
        submitted = await submit_schedule_modal(
            services=services, submission=submission, now=schedule_clock.now()
        )
        if submitted.errors:
            await ack(response_action="errors", errors=submitted.errors)
            return
        await ack()
        if submitted.confirmation is not None:
            runner.spawn(post_confirmation(services=services, confirmation=submitted.confirmation))

    app.action(SHOW_CODE_ACTION)(on_show_code)
    app.action(STOP_ACTION)(on_stop)
    app.action(RETRY_ACTION)(on_retry)
    app.action(FEEDBACK_ACTION)(on_feedback)
    app.action(EDIT_CHANNEL_ACTION)(on_edit_channel)
    app.view(CHANNEL_SETTINGS_CALLBACK)(on_channel_settings)
    app.shortcut(FORGET_SHORTCUT)(on_forget)
    app.action(REPEAT_ACTION)(on_repeat)
    app.action(SCHEDULE_EDIT_ACTION)(on_schedule_edit)
    app.view(SCHEDULE_MODAL_CALLBACK)(on_schedule_modal)

    # The schedules in the App Home: Pause, Resume, Delete (Edit opens a modal elsewhere).

    async def change_schedule(click: ScheduleClick) -> None:
        now = schedule_clock.now()
        owner = await apply_schedule_click(services=services, click=click, now=now)
        await publish_home(services=services, user=click.user, now=now)
        if owner is not None and owner != click.user:  # an admin changed someone's schedule
            await publish_home(services=services, user=owner, now=now)

    async def on_schedule_button(ack: Callable[[], Awaitable[None]], body: dict[str, Any]) -> None:
        await ack()
        action = view_action_for(body=body)
        if action is not None:
            click = ScheduleClick(action_id=action.action_id, value=action.value, user=action.user)
            runner.spawn(change_schedule(click))

    for action_id in SCHEDULE_ACTIONS:
        app.action(action_id)(on_schedule_button)


def _click_of(body: dict[str, Any]) -> Click | None:
    request = action_for(body=body)
    if request is None:
        return None
    return Click(
        turn_id=request.value,
        user=request.user,
        channel=request.channel,
        message_ts=request.message_ts,
        thread_ts=request.thread_ts,
    )
