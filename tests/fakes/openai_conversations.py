"""Conversations and their items in the fake OpenAI server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.openai_state import (
    JSON_BODY,
    ApiError,
    ConversationState,
    Json,
    body_json,
    fake_of,
    list_page,
    new_id,
    required,
)

if TYPE_CHECKING:
    from tests.fakes.openai_server import FakeOpenAI

MAX_CONVERSATION_ITEMS_PER_CALL = 20


def conversation_items(raw: Any) -> list[Json]:
    """Conversation items (with ids and statuses) for Responses ``input`` or ``items``."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [{"role": "user", "content": raw}]
    items: list[Json] = []
    for entry in raw:
        item = dict(entry)
        if item.get("type", "message") == "message":
            content = item.get("content")
            text_type = "output_text" if item.get("role") == "assistant" else "input_text"
            if isinstance(content, str):
                part: Json = {"type": text_type, "text": content}
                if text_type == "output_text":
                    part["annotations"] = []
                content = [part]
            item = {
                "id": item.get("id") or new_id("msg_"),
                "type": "message",
                "status": item.get("status") or "completed",
                "role": item.get("role", "user"),
                "content": content,
            }
        else:
            item.setdefault("id", new_id(item["type"].split("_")[0] + "_"))
        items.append(item)
    return items


def conversation(fake: FakeOpenAI, conversation_id: str) -> ConversationState:
    found = fake.conversations.get(conversation_id)
    if found is None:
        raise ApiError(404, f"Conversation with id '{conversation_id}' not found.")
    return found


def _check_item_count(items: list[Json]) -> None:
    if len(items) > MAX_CONVERSATION_ITEMS_PER_CALL:
        raise ApiError(
            400,
            f"Invalid 'items': array too long. Expected an array with maximum length "
            f"{MAX_CONVERSATION_ITEMS_PER_CALL}, but got an array with length {len(items)} "
            "instead.",
            param="items",
            code="array_above_max_length",
        )


async def create_conversation(request: web.Request) -> web.Response:
    body = request.get(JSON_BODY) or {}
    items = conversation_items(body.get("items"))
    _check_item_count(items)
    state = ConversationState(id=new_id("conv_"), metadata=body.get("metadata") or {}, items=items)
    fake_of(request).conversations[state.id] = state
    return web.json_response(state.to_json())


async def retrieve_conversation(request: web.Request) -> web.Response:
    return web.json_response(
        conversation(fake_of(request), request.match_info["conv_id"]).to_json()
    )


async def update_conversation(request: web.Request) -> web.Response:
    state = conversation(fake_of(request), request.match_info["conv_id"])
    state.metadata = required(body_json(request), "metadata")
    return web.json_response(state.to_json())


async def delete_conversation(request: web.Request) -> web.Response:
    fake = fake_of(request)
    state = conversation(fake, request.match_info["conv_id"])
    del fake.conversations[state.id]
    return web.json_response({"id": state.id, "object": "conversation.deleted", "deleted": True})


async def list_conversation_items(request: web.Request) -> web.Response:
    state = conversation(fake_of(request), request.match_info["conv_id"])
    return web.json_response(list_page(state.items, query=dict(request.query)))


async def create_conversation_items(request: web.Request) -> web.Response:
    state = conversation(fake_of(request), request.match_info["conv_id"])
    items = conversation_items(required(body_json(request), "items"))
    _check_item_count(items)
    state.items.extend(items)
    page = list_page(items, query={"order": "asc", "limit": "100"})
    return web.json_response(page)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/conversations", create_conversation)
    app.router.add_get("/v1/conversations/{conv_id}", retrieve_conversation)
    app.router.add_post("/v1/conversations/{conv_id}", update_conversation)
    app.router.add_delete("/v1/conversations/{conv_id}", delete_conversation)
    app.router.add_get("/v1/conversations/{conv_id}/items", list_conversation_items)
    app.router.add_post("/v1/conversations/{conv_id}/items", create_conversation_items)
