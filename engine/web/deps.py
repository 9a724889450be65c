"""FastAPI dependencies: what a request handler needs, taken from the app's state (set once at
start) rather than from module globals, and the request body read and checked as JSON.

They are ``async def`` although they never wait: FastAPI runs a plain ``def`` dependency in a
thread pool, a thread hop per dependency per request that cost more than the evaluation."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from engine.loading.unicode_text import find_lone_surrogate, path_text, surrogate_problem
from engine.loading.yamlio import long_number
from engine.model import KnowledgeBase
from .errors import ApiError, validation_error
from .settings import Settings
from .worker import EngineProcess

#: Deeper JSON than this is refused (a profile is two levels deep; records three).
MAX_DEPTH = 64

Model = TypeVar("Model", bound=BaseModel)


async def get_kb(request: Request) -> KnowledgeBase:
    """The knowledge base fixed at start (labels, ids, texts; never evaluated in this process)."""
    return request.app.state.kb


async def get_engine(request: Request) -> EngineProcess:
    """This worker's engine process."""
    return request.app.state.engine


async def get_upload_process(request: Request) -> EngineProcess:
    """This worker's upload process: uploaded files are read there, memory capped."""
    return request.app.state.uploads


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_lang(lang: str = "zh") -> str:
    """The page language: ``en`` or (anything else) ``zh``."""
    return "en" if lang == "en" else "zh"


def _depth(value) -> int:
    """How deeply ``value`` nests (a scalar is 1), stopping once past MAX_DEPTH; only containers
    are visited, so a flat profile costs next to nothing."""
    deepest, stack = 1, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                stack.append((child, level + 1))
    return deepest


def parse_json(raw: bytes) -> Any:
    """Bytes to JSON data, or a 400 saying what is wrong (not UTF-8, empty, malformed, too deep)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(400, f"the body is not UTF-8 text (byte {exc.start + 1} cannot be read); "
                            "send JSON encoded as UTF-8") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ApiError(400, "the body is empty; send a JSON object such as {\"profile\": {\"industry\": \"ict\"}}")

    def constant(name):
        raise ApiError(400, f"malformed JSON: {name} is not a number JSON allows")

    try:
        data = json.loads(text, parse_constant=constant, parse_int=long_number)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise ApiError(400, f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ApiError(400, f"malformed JSON: {exc}") from None
    if _depth(data) > MAX_DEPTH:
        raise ApiError(400, f"the JSON is nested deeper than {MAX_DEPTH} levels")
    found = find_lone_surrogate(data)
    if found is not None:
        where = path_text(found[0])
        raise ApiError(400, surrogate_problem(where, found[1])[0], field=where or None)
    return data


async def read_model(request: Request, model: type[Model]) -> Model:
    """The request body as ``model``, or the documented 400/422."""
    data = parse_json(await request.body())
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc.errors(), list(model.model_fields)) from None
