"""Acknowledgements first: turns (starting or running) wait briefly while Slack events are
being taken in, never for ever."""

from __future__ import annotations

import asyncio

from bot.ack_priority import AckPriority


async def test_nothing_in_flight_means_no_wait() -> None:
    acks = AckPriority(max_wait_s=30)
    await asyncio.wait_for(acks.let_acks_go_first(), timeout=1)


async def test_a_turn_waits_until_the_events_being_taken_in_are_acknowledged() -> None:
    acks = AckPriority(max_wait_s=30)
    order: list[str] = []

    async def turn_step() -> None:
        await acks.let_acks_go_first()
        order.append("turn")

    with acks.taking_in():
        with acks.taking_in():  # two deliveries at once
            step = asyncio.create_task(turn_step())
            await asyncio.sleep(0.05)
            order.append("first acknowledged")
        await asyncio.sleep(0.05)
        assert not step.done()  # one is still being taken in
        order.append("second acknowledged")
    await asyncio.wait_for(step, timeout=1)
    assert order == ["first acknowledged", "second acknowledged", "turn"]


async def test_a_steady_stream_of_events_delays_a_turn_but_never_starves_it() -> None:
    acks = AckPriority(max_wait_s=0.1)
    with acks.taking_in():
        # Still in flight when the wait gives up: the turn goes on anyway.
        await asyncio.wait_for(acks.let_acks_go_first(), timeout=2)
