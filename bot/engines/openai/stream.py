"""Translate Responses API stream events into our engine events (pure, no I/O).

``StreamTranslator`` keeps what one response's stream has shown so far, so a stream cut in the
middle can be continued from its last ``sequence_number`` without losing or repeating text.
The answer of a finished response is read from its final snapshot (``answer_text`` and
friends), so a run resumed after a crash still gets the whole text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
from dataclasses import dataclass, field

from openai.types.responses import (
    Response,
    ResponseCodeInterpreterCallCodeDeltaEvent,
    ResponseCodeInterpreterCallCodeDoneEvent,
    ResponseCodeInterpreterCallInProgressEvent,
    ResponseCodeInterpreterCallInterpretingEvent,
    ResponseCodeInterpreterToolCall,
    ResponseErrorEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseRefusalDeltaEvent,
    ResponseTextDeltaEvent,
)

from bot.engines.openai.errors import (
    cancelled_response_event,
    failed_response_event,
    incomplete_response_event,
)
from bot.types import (
    CodeDelta,
    CodeDone,
    CodeOutput,
    CodeRunning,
    CodeStarted,
    EngineEvent,
    Failed,
    RunStarted,
    TextDelta,
    Usage,
)

PART_SEPARATOR = "\n\n"
TERMINAL_STATUSES = frozenset({"completed", "failed", "incomplete", "cancelled"})


@dataclass(frozen=True)
class CitedFile:
    """A container file the answer cites (``container_file_citation``)."""

    container_id: str
    file_id: str
    name: str


@dataclass(frozen=True)
class InlineImage:
    """An image the code displayed inline (``code_interpreter_call`` output with a data URL)."""

    name: str
    mime_type: str
    data: bytes


@dataclass
class StreamTranslator:
    """State of one response's stream; ``feed`` turns each SDK event into ours.

    After a terminal event, ``final`` holds the completed response (the engine then fetches
    artifacts and emits Finished) or ``failure`` holds the Failed event to emit.
    """

    request_id: str | None = None
    response_id: str | None = None
    sequence: int | None = None
    started: bool = False  # RunStarted already given (a resumed stream does not repeat it)
    saw_all_text: bool = True  # False when resuming midway: earlier text went to someone else
    final: Response | None = None
    failure: Failed | None = None
    resume_point: int | None = None  # cursor that replays the terminal event
    text_parts: list[str] = field(default_factory=list)
    citations: list[CitedFile] = field(default_factory=list)
    _before: int | None = None
    _text_key: tuple[str, int] | None = None
    _code_items: set[str] = field(default_factory=set)

    @property
    def done(self) -> bool:
        return self.final is not None or self.failure is not None

    @property
    def streamed_text(self) -> str:
        return "".join(self.text_parts)

    def feed(self, event: object) -> list[EngineEvent]:
        """Our events for one SDK stream event; events at or before the cursor are ignored."""
        sequence = getattr(event, "sequence_number", None)
        if isinstance(sequence, int):
            if self.sequence is not None and sequence <= self.sequence:
                return []
            self._before, self.sequence = self.sequence, sequence
        out: list[EngineEvent] = []
        snapshot = getattr(event, "response", None)
        if isinstance(snapshot, Response):
            out.extend(self._on_snapshot(snapshot, sequence))
        else:
            out.extend(self._on_item_event(event, sequence))
        return out

    def _on_snapshot(self, response: Response, sequence: int | None) -> list[EngineEvent]:
        out: list[EngineEvent] = []
        self.response_id = response.id
        if not self.started:
            self.started = True
            out.append(RunStarted(response.id, self.request_id, sequence))
        if response.status in TERMINAL_STATUSES:
            self.settle(response, sequence=sequence)
        return out

    def settle(self, response: Response, *, sequence: int | None) -> None:
        """Record a terminal response: ``final`` when completed, else ``failure``.

        ``sequence`` is the terminal event's, or None when read from a retrieved snapshot.
        """
        partial = self.streamed_text
        self.resume_point = self._before if sequence is not None else self.sequence
        if response.status == "completed":
            self.final = response
        elif response.status == "failed":
            error = response.error
            self.failure = failed_response_event(
                code=error.code if error else None,
                message=error.message if error else None,
                partial_text=partial,
                sequence=sequence,
            )
        elif response.status == "incomplete":
            details = response.incomplete_details
            self.failure = incomplete_response_event(
                reason=details.reason if details else None, partial_text=partial, sequence=sequence
            )
        elif response.status == "cancelled":
            self.failure = cancelled_response_event(partial_text=partial, sequence=sequence)

    def _on_item_event(self, event: object, sequence: int | None) -> list[EngineEvent]:
        if isinstance(event, ResponseTextDeltaEvent | ResponseRefusalDeltaEvent):
            return self._text(event.item_id, event.content_index, event.delta, sequence)
        if isinstance(event, ResponseOutputItemAddedEvent):
            item = event.item
            if isinstance(item, ResponseCodeInterpreterToolCall):
                return self._code_started(item.id, sequence)
        if isinstance(event, ResponseCodeInterpreterCallInProgressEvent):
            return self._code_started(event.item_id, sequence)
        if isinstance(event, ResponseCodeInterpreterCallCodeDeltaEvent):
            return [CodeDelta(event.item_id, event.delta, sequence)]
        if isinstance(event, ResponseCodeInterpreterCallCodeDoneEvent):
            return [CodeDone(event.item_id, event.code, sequence)]
        if isinstance(event, ResponseCodeInterpreterCallInterpretingEvent):
            return [CodeRunning(event.item_id, sequence)]
        if isinstance(event, ResponseOutputItemDoneEvent):
            return self._item_done(event, sequence)
        if isinstance(event, ResponseOutputTextAnnotationAddedEvent):
            self._note_citation(event.annotation)
        if isinstance(event, ResponseErrorEvent):
            self.failure = failed_response_event(
                code=event.code,
                message=event.message,
                partial_text=self.streamed_text,
                sequence=sequence,
            )
        return []

    def _text(
        self, item_id: str, content_index: int, delta: str, sequence: int | None
    ) -> list[EngineEvent]:
        out: list[EngineEvent] = []
        key = (item_id, content_index)
        if key != self._text_key and self.text_parts:
            # A new message or part: keep the parts apart as answer_text() does.
            self.text_parts.append(PART_SEPARATOR)
            out.append(TextDelta(PART_SEPARATOR, sequence))
        self._text_key = key
        if delta:
            self.text_parts.append(delta)
            out.append(TextDelta(delta, sequence))
        return out

    def _code_started(self, item_id: str, sequence: int | None) -> list[EngineEvent]:
        if item_id in self._code_items:
            return []
        self._code_items.add(item_id)
        return [CodeStarted(item_id, sequence)]

    def _item_done(
        self, event: ResponseOutputItemDoneEvent, sequence: int | None
    ) -> list[EngineEvent]:
        item = event.item
        if not isinstance(item, ResponseCodeInterpreterToolCall):
            return []
        logs = [o.logs for o in item.outputs or [] if o.type == "logs" and o.logs]
        return [CodeOutput(item.id, "\n".join(logs), sequence)] if logs else []

    def _note_citation(self, annotation: object) -> None:
        if getattr(annotation, "type", None) != "container_file_citation":
            return
        cited = CitedFile(
            container_id=str(getattr(annotation, "container_id", "")),
            file_id=str(getattr(annotation, "file_id", "")),
            name=str(getattr(annotation, "filename", "")),
        )
        if cited.file_id and cited not in self.citations:
            self.citations.append(cited)


# ------------------------------------------------------------------ final snapshot


def answer_text(response: Response) -> str:
    """The answer's raw text: every text or refusal part of every message, in order."""
    parts: list[str] = []
    for item in response.output:
        if not isinstance(item, ResponseOutputMessage):
            continue
        for content in item.content:
            if isinstance(content, ResponseOutputText) and content.text:
                parts.append(content.text)
            elif isinstance(content, ResponseOutputRefusal) and content.refusal:
                parts.append(content.refusal)
    return PART_SEPARATOR.join(parts)


def cited_files(response: Response) -> list[CitedFile]:
    """Container files cited by the answer, in order, without duplicates."""
    found: list[CitedFile] = []
    for item in response.output:
        if not isinstance(item, ResponseOutputMessage):
            continue
        for content in item.content:
            if not isinstance(content, ResponseOutputText):
                continue
            for note in content.annotations:
                if note.type == "container_file_citation":
                    cited = CitedFile(note.container_id, note.file_id, note.filename)
                    if cited not in found:
                        found.append(cited)
    return found


def code_of(response: Response) -> tuple[str, ...]:
    return tuple(
        item.code
        for item in response.output
        if isinstance(item, ResponseCodeInterpreterToolCall) and item.code
    )


def usage_of(response: Response) -> Usage:
    """The response's usage in full: cached tokens are part of input, reasoning of output."""
    usage = response.usage
    if usage is None:
        return Usage()
    cached = usage.input_tokens_details.cached_tokens if usage.input_tokens_details else 0
    reasoning = usage.output_tokens_details.reasoning_tokens if usage.output_tokens_details else 0
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        cached_input_tokens=cached or 0,
        reasoning_tokens=reasoning or 0,
    )


def inline_images(response: Response) -> list[InlineImage]:
    """Images shown inline by the code (``data:`` URLs only), numbered in order."""
    images: list[InlineImage] = []
    for item in response.output:
        if not isinstance(item, ResponseCodeInterpreterToolCall):
            continue
        for output in item.outputs or []:
            if output.type != "image":
                continue
            decoded = decode_data_url(output.url)
            if decoded is None:
                continue
            mime, data = decoded
            extension = mimetypes.guess_extension(mime) or ".bin"
            images.append(InlineImage(f"image-{len(images) + 1}{extension}", mime, data))
    return images


def decode_data_url(url: str) -> tuple[str, bytes] | None:
    """(MIME type, bytes) of a base64 ``data:`` URL; None for other URLs or bad data."""
    if not url.startswith("data:") or "," not in url:
        return None
    header, payload = url[5:].split(",", 1)
    fields = header.split(";")
    if "base64" not in fields[1:]:
        return None
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None
    return (fields[0] or "application/octet-stream"), data


def mime_type_for(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
