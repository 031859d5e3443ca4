"""The baseline: what the original design did, one synchronous MongoDB update per REST heartbeat.

    uvicorn bench.telemetry.baseline_app:app   (MONGO_URL, MONGO_DATABASE, JWT_SECRET, BASELINE_DRIVER)

`POST /api/courses/{course_id}/telemetry {lesson_id, seconds_spent, seq}` with a bearer token: the token
is verified (as any REST endpoint does), then one `update_one(..., {$inc: {seconds, heartbeats}},
upsert=True)` on the hourly bucket of (user, course, lesson) in `baseline_telemetry`, and the reply waits
for that write to be acknowledged. No wall-clock budget, no stream, no batching: seconds_spent is
credited as sent.

BASELINE_DRIVER=async (default): PyMongo's AsyncMongoClient awaited in an async endpoint, the fastest
way to do it in this stack. BASELINE_DRIVER=sync: PyMongo's blocking MongoClient, each write run in
Starlette's thread pool (what a `def` endpoint of a synchronous Python app gets).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from pymongo import AsyncMongoClient, MongoClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.security.tokens import InvalidToken, TokenCodec
from app.timestamps import hour_of_epoch_ms

COLLECTION = "baseline_telemetry"

_codec = TokenCodec(os.environ["JWT_SECRET"], 3600)
_database = os.environ.get("MONGO_DATABASE", "learnflow_bench")
_driver = os.environ.get("BASELINE_DRIVER", "async")


def _error(status: int, code: str) -> Response:
    return Response(json.dumps({"error": {"code": code}}), status, media_type="application/json")


def _update(
    request_body: bytes, headers: Any, course_id: int
) -> tuple[dict[str, Any], dict[str, Any], int] | Response:
    auth = headers.get("authorization", "")
    if not auth.startswith("Bearer "):
        return _error(401, "unauthorized")
    try:
        user_id = _codec.decode_access(auth[7:]).user_id
    except InvalidToken:
        return _error(401, "invalid_token")
    try:
        body = json.loads(request_body)
        lesson_id = str(body["lesson_id"])
        seconds = int(body["seconds_spent"])
    except (ValueError, KeyError, TypeError):
        return _error(422, "validation_error")
    if not 1 <= seconds <= 60:
        return _error(422, "validation_error")
    hour = hour_of_epoch_ms(time.time() * 1000)
    key = {"_id": f"{user_id}:{course_id}:{lesson_id}:{hour}"}
    change = {
        "$inc": {"seconds": seconds, "heartbeats": 1},
        "$setOnInsert": {"user_id": user_id, "course_id": course_id, "lesson_id": lesson_id, "hour": hour},
    }
    return key, change, seconds


def _accepted(seconds: int) -> Response:
    return Response(
        json.dumps({"accepted": True, "duplicate": False, "credited_seconds": seconds}),
        202,
        media_type="application/json",
    )


if _driver == "sync":
    _sync = MongoClient(os.environ["MONGO_URL"])[_database][COLLECTION]

    async def heartbeat(request: Request) -> Response:
        body = await request.body()
        prepared = _update(body, request.headers, request.path_params["course_id"])
        if isinstance(prepared, Response):
            return prepared
        key, change, seconds = prepared

        def write() -> None:
            _sync.update_one(key, change, upsert=True)

        await run_in_threadpool(write)
        return _accepted(seconds)

else:
    _async = AsyncMongoClient(os.environ["MONGO_URL"])[_database][COLLECTION]

    async def heartbeat(request: Request) -> Response:
        body = await request.body()
        prepared = _update(body, request.headers, request.path_params["course_id"])
        if isinstance(prepared, Response):
            return prepared
        key, change, seconds = prepared
        await _async.update_one(key, change, upsert=True)
        return _accepted(seconds)


app = Starlette(routes=[Route("/api/courses/{course_id:int}/telemetry", heartbeat, methods=["POST"])])
