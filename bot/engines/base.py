"""The engine interface: everything the turn needs from a code-interpreter backend.

An engine never sees a Slack type and never touches storage: the caller passes in the
thread's ``Session`` and files and stores what comes back. What an engine creates it records
in the ``Inventory`` it was built with, under the ``Owner`` each call names (see
bot/engines/objects.py); ``forget`` deletes such objects again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Protocol

from bot.engines.objects import Deletion, EngineObject, Owner
from bot.types import EngineEvent, LocalFile, PastTurn, RunOptions, Session, UploadedFile


class Engine(Protocol):
    async def upload_file(self, file: LocalFile, *, owner: Owner | None = None) -> UploadedFile:
        """Upload one local file (streamed from disk; large files in parts), recorded in the
        inventory under ``owner``.

        Raises EngineError subclasses.
        """
        ...

    async def prepare_session(
        self,
        *,
        session: Session | None,
        files: Sequence[UploadedFile],
        label: str,
        owner: Owner | None = None,
    ) -> Session:
        """Return a Session whose conversation exists and whose live container holds ``files``.
        What it creates is recorded in the inventory under ``owner``.

        Creates the conversation on first use; creates a container (memory tier sized to the
        files) when there is none, it expired, or it is too small; adds missing files. Newest
        files win when there are more than fit; ``Session.left_out`` names the others.
        Raises EngineError subclasses.
        """
        ...

    def run(
        self,
        *,
        session: Session,
        question: str,
        files: Sequence[UploadedFile],
        history: Sequence[PastTurn],
        turn_id: str,
        out_dir: Path,
        options: RunOptions | None = None,
        owner: Owner | None = None,
    ) -> AsyncIterator[EngineEvent]:
        """Start a response for ``question`` and yield its events until Finished or Failed.
        The response (and any container or conversation it needs anew) is recorded in the
        inventory under ``owner``.

        ``options`` may name another model (the OpenAI engine uses it; the local engine has
        one model) and say whom to attribute the run to (a hashed asker, team and channel).

        ``history`` seeds a replacement conversation if the stored one refuses to continue
        (then a ConversationReplaced event is yielded). Errors become a final Failed event.
        Files the code produced are saved in ``out_dir`` (Artifact events point there; the
        caller owns the folder and deletes it); files over the output limits are not fetched
        and come as ArtifactWithheld events instead.
        """
        ...

    def resume(
        self,
        *,
        session: Session,
        response_id: str,
        after_sequence: int | None,
        out_dir: Path,
    ) -> AsyncIterator[EngineEvent]:
        """Continue the events of an earlier response after ``after_sequence``; files go to
        ``out_dir`` as in ``run``.

        Yields Failed(code="not_resumable") if the engine no longer has that response.
        """
        ...

    async def cancel(self, response_id: str) -> None:
        """Ask the engine to stop a response; idempotent."""
        ...

    async def forget(self, objects: Sequence[EngineObject]) -> list[Deletion]:
        """Delete these objects of ours, one Deletion each (in order). Never raises for one
        object: an object already gone is GONE (done); one the engine would not delete now
        (5xx, 429, a timeout) is PENDING and must be asked again later."""
        ...

    async def own_containers(self) -> list[EngineObject]:
        """Containers whose name marks them as ours (with their creation time), for sweeping
        up the ones that never reached the inventory; [] for engines without containers.
        Raises EngineError subclasses."""
        ...

    async def check(self) -> str:
        """A cheap authenticated call for `doctor`; returns a short description.

        Raises EngineError subclasses.
        """
        ...

    async def aclose(self) -> None: ...
