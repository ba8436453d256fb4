"""Who may ask, and where: pure decisions on the access settings and a channel's own switch.

The checks run in one order: ``INSIGHTBOT_ALLOWED_USERS``, external people (Slack Connect),
the conversation kind (DMs and group DMs follow ``INSIGHTBOT_ALLOW_DMS`` only),
``INSIGHTBOT_ALLOWED_CHANNELS``, then the channel's own on/off, which switches a channel off
but never opens one outside the allow-list.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol, TypeVar

from bot.config import Settings
from bot.types import FailureCode

__all__ = [
    "AccessPolicy",
    "Refusal",
    "access_refusal",
    "is_external",
    "usable_shares",
]

DIRECT_KINDS = frozenset({"im", "mpim"})


class Refusal(Enum):
    """Why a person may not ask here; each is told its own note."""

    USER = "user"  # not in INSIGHTBOT_ALLOWED_USERS
    EXTERNAL = "external"  # from another organisation, while external users are denied
    DMS = "dms"  # a DM or group DM, while INSIGHTBOT_ALLOW_DMS is false
    CHANNEL = "channel"  # not in INSIGHTBOT_ALLOWED_CHANNELS
    CHANNEL_OFF = "channel_off"  # an admin switched the bot off in this channel

    @property
    def code(self) -> FailureCode:
        return FailureCode.EXTERNAL_USER if self is Refusal.EXTERNAL else FailureCode.NOT_ALLOWED


@dataclass(frozen=True)
class AccessPolicy:
    allowed_users: frozenset[str] = frozenset()  # empty: everyone
    allowed_channels: frozenset[str] = frozenset()  # empty: every channel
    allow_dms: bool = True
    allow_external: bool = False

    @classmethod
    def of(cls, settings: Settings) -> AccessPolicy:
        return cls(
            allowed_users=settings.allowed_users,
            allowed_channels=settings.allowed_channels,
            allow_dms=settings.allow_dms,
            allow_external=settings.external_users == "allow",
        )


def is_external(team: str | None, home_teams: Collection[str]) -> bool:
    """Whether a person (or a file's sharer) of workspace ``team`` is from another
    organisation: a team that is neither the bot's own workspace nor its Enterprise Grid org.
    Unknown teams count as the bot's own (Slack names the team wherever it differs)."""
    return bool(team) and bool(home_teams) and team not in home_teams


def access_refusal(
    *,
    policy: AccessPolicy,
    user: str,
    user_team: str | None,
    home_teams: Collection[str],
    channel: str,
    channel_type: str,
    channel_enabled: bool | None,
) -> Refusal | None:
    """Why ``user`` may not ask in ``channel``, or None when they may."""
    if policy.allowed_users and user not in policy.allowed_users:
        return Refusal.USER
    if not policy.allow_external and is_external(user_team, home_teams):
        return Refusal.EXTERNAL
    if channel_type in DIRECT_KINDS:
        return None if policy.allow_dms else Refusal.DMS
    if policy.allowed_channels and channel not in policy.allowed_channels:
        return Refusal.CHANNEL
    if channel_enabled is False:
        return Refusal.CHANNEL_OFF
    return None


class _Shared(Protocol):
    @property
    def shared_by_team(self) -> str | None: ...


S = TypeVar("S", bound=_Shared)


def usable_shares(
    records: Sequence[S], *, policy: AccessPolicy, home_teams: Collection[str]
) -> list[S]:
    """The remembered files a question may use: none shared by an external person while
    external users are denied."""
    if policy.allow_external:
        return list(records)
    return [r for r in records if not is_external(r.shared_by_team, home_teams)]
