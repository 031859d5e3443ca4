"""POST /api/upload with local disk storage (no CLOUDINARY_URL), and the /media/ mount serving the files."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from app.config import Settings
from app.http.errors import exception_handlers
from app.media.routes import media_routes
from app.runtime import Runtime
from tests.helpers import Api, bearer
from tests.media import samples
from tests.media.helpers import CountingBody, audit_rows, error_of, multipart, upload

IMAGE_LIMIT = 4096
VIDEO_LIMIT = 16384
CAP = max(IMAGE_LIMIT, VIDEO_LIMIT) + 64 * 1024  # the route's cap on a whole request body
STORED_URL = re.compile(r"http://testserver/media/([0-9a-f]{32})\.(\w+)")

ACCEPTED = [
    # (content, what the client claims, expected format, expected resource_type)
    (samples.JPEG, ("photo.jpeg", "image/jpeg"), "jpg", "image"),
    (samples.png(), ("pixel.png", "image/png"), "png", "image"),
    (samples.GIF, ("anim.gif", "image/gif"), "gif", "image"),
    (samples.WEBP, ("modern.webp", "image/webp"), "webp", "image"),
    (samples.MP4, ("clip.mp4", "video/mp4"), "mp4", "video"),
    (samples.WEBM, ("clip.webm", "video/webm"), "webm", "video"),
    (samples.MOV, ("clip.mov", "video/quicktime"), "mov", "video"),
]


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def settings_overrides(media_dir: Path) -> dict[str, Any]:
    return {
        "media_dir": media_dir,
        "media_max_image_bytes": IMAGE_LIMIT,
        "media_max_video_bytes": VIDEO_LIMIT,
    }


@pytest.fixture
async def media_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The /media/ mount as app/main.py mounts it, in an app of its own."""
    app = Starlette(routes=media_routes(runtime.settings), exception_handlers=exception_handlers())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def stored_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*")) if directory.exists() else []


# -- happy paths ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "claimed", "fmt", "kind"), ACCEPTED, ids=[row[2] for row in ACCEPTED])
async def test_upload_stores_the_file_and_serves_it(
    api: Api,
    runtime: Runtime,
    media_dir: Path,
    media_client: httpx.AsyncClient,
    content: bytes,
    claimed: tuple[str, str],
    fmt: str,
    kind: str,
) -> None:
    instructor = await api.account("instructor")
    response = await upload(
        api.client, instructor.headers, content, filename=claimed[0], content_type=claimed[1]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"url", "public_id", "format", "resource_type", "bytes"}
    assert body["format"] == fmt and body["resource_type"] == kind and body["bytes"] == len(content)
    match = STORED_URL.fullmatch(body["url"])
    assert match is not None, body["url"]
    assert match[1] == body["public_id"] and match[2] == fmt

    assert stored_files(media_dir) == [media_dir / f"{body['public_id']}.{fmt}"]
    assert (media_dir / f"{body['public_id']}.{fmt}").read_bytes() == content

    served = await media_client.get(body["url"])
    assert served.status_code == 200
    assert served.content == content
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert served.headers["content-type"].startswith(claimed[1] if fmt != "jpg" else "image/jpeg")


async def test_the_type_comes_from_the_bytes_not_the_claim(api: Api, media_dir: Path) -> None:
    """A PNG sent as "video.mp4" with a video Content-Type is stored and reported as the PNG it is."""
    admin = await api.account("admin")
    response = await upload(
        api.client, admin.headers, samples.png(), filename="video.mp4", content_type="video/mp4"
    )
    assert response.status_code == 201, response.text
    assert (response.json()["format"], response.json()["resource_type"]) == ("png", "image")
    assert [path.suffix for path in stored_files(media_dir)] == [".png"]


async def test_each_upload_gets_its_own_name(api: Api, media_dir: Path) -> None:
    instructor = await api.account("instructor")
    first = await upload(api.client, instructor.headers, samples.GIF, filename="same.gif")
    second = await upload(api.client, instructor.headers, samples.GIF, filename="same.gif")
    assert first.status_code == second.status_code == 201
    assert first.json()["public_id"] != second.json()["public_id"]
    assert len(stored_files(media_dir)) == 2


async def test_extra_form_fields_are_ignored(api: Api) -> None:
    instructor = await api.account("instructor")
    response = await upload(
        api.client, instructor.headers, samples.JPEG, data={"folder": "../../etc", "public_id": "x"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["public_id"] != "x"


async def test_upload_is_audited(api: Api, runtime: Runtime) -> None:
    instructor = await api.account("instructor")
    response = await upload(
        api.client, instructor.headers, samples.WEBM, filename="clip.webm", content_type="video/webm"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    rows = await audit_rows(runtime)
    assert len(rows) == 1
    row = rows[0]
    assert row.user_id == instructor.id
    assert (row.resource_type, row.resource_id) == ("media", body["public_id"])
    assert row.details == {
        "public_id": body["public_id"],
        "bytes": len(samples.WEBM),
        "format": "webm",
        "resource_type": "video",
        "storage": "local",
    }
    assert row.ip_address == "127.0.0.1"


# -- path traversal -------------------------------------------------------------------------------------

TRAVERSALS = [
    "../../etc/passwd.png",
    "..\\..\\windows\\win.ini.png",
    "/etc/passwd.png",
    "....//....//evil.png",
    "%2e%2e%2f%2e%2e%2fevil.png",
    "evil.png\x00.html",
    ".htaccess",
    "a" * 1000 + ".png",
]


@pytest.mark.parametrize("filename", TRAVERSALS, ids=range(len(TRAVERSALS)))
async def test_client_filenames_never_reach_the_disk(
    api: Api, tmp_path: Path, media_dir: Path, filename: str
) -> None:
    instructor = await api.account("instructor")
    before = set(tmp_path.rglob("*"))
    response = await upload(api.client, instructor.headers, samples.png(), filename=filename)
    assert response.status_code == 201, response.text
    created = set(tmp_path.rglob("*")) - before
    public_id = response.json()["public_id"]
    assert created == {media_dir, media_dir / f"{public_id}.png"}
    assert re.fullmatch(r"[0-9a-f]{32}", public_id)


# -- 413 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind", "limit"),
    [
        (samples.padded(samples.png(), IMAGE_LIMIT + 1), "image", IMAGE_LIMIT),
        (samples.padded(samples.JPEG, VIDEO_LIMIT), "image", IMAGE_LIMIT),  # under the video limit
        (samples.padded(samples.MP4, VIDEO_LIMIT + 1), "video", VIDEO_LIMIT),
    ],
    ids=["image", "image-sized-like-a-video", "video"],
)
async def test_over_the_limit_for_its_kind_is_413(
    api: Api, runtime: Runtime, media_dir: Path, content: bytes, kind: str, limit: int
) -> None:
    instructor = await api.account("instructor")
    response = await upload(api.client, instructor.headers, content)
    assert response.status_code == 413, response.text
    error = error_of(response)
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"resource_type": kind, "bytes": len(content), "max_bytes": limit}
    assert stored_files(media_dir) == []
    assert await audit_rows(runtime) == []


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (samples.padded(samples.png(), IMAGE_LIMIT), "image"),
        (samples.padded(samples.MOV, VIDEO_LIMIT), "video"),
    ],
    ids=["image", "video"],
)
async def test_exactly_at_the_limit_is_accepted(api: Api, content: bytes, kind: str) -> None:
    instructor = await api.account("instructor")
    response = await upload(api.client, instructor.headers, content)
    assert response.status_code == 201, response.text
    assert response.json()["bytes"] == len(content) and response.json()["resource_type"] == kind


async def test_declared_length_over_the_cap_is_refused_before_reading(api: Api, media_dir: Path) -> None:
    instructor = await api.account("instructor")
    body = CountingBody(b"--x\r\n", total=50 * 1024 * 1024)
    response = await api.client.post(
        "/api/upload",
        content=body,
        headers={
            **instructor.headers,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(body.total),
        },
    )
    assert response.status_code == 413, response.text
    assert error_of(response)["code"] == "payload_too_large"
    assert body.sent == 0
    assert stored_files(media_dir) == []


async def test_streamed_body_is_cut_off_at_the_cap(api: Api, media_dir: Path) -> None:
    """No Content-Length (chunked): the bytes are counted as they arrive and reading stops at the cap."""
    instructor = await api.account("instructor")
    head = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n' + samples.MP4
    body = CountingBody(head, total=50 * 1024 * 1024)
    response = await api.client.post(
        "/api/upload",
        content=body,
        headers={**instructor.headers, "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413, response.text
    assert error_of(response)["details"] == {"max_bytes": max(IMAGE_LIMIT, VIDEO_LIMIT)}
    assert CAP < body.sent <= CAP + body.chunk + len(head)
    assert stored_files(media_dir) == []


# -- 415 ------------------------------------------------------------------------------------------------

IMPOSTORS = {
    "pdf-named-png": (samples.PDF, "report.png", "image/png", "application/pdf"),
    "elf-named-png": (samples.ELF, "logo.png", "image/png", "application/x-executable"),
    "html-named-jpg": (samples.HTML, "cat.jpg", "image/jpeg", None),
    "html": (samples.HTML, "page.html", "text/html", None),
    "svg": (samples.SVG, "icon.svg", "image/svg+xml", None),
    "zip-named-mp4": (samples.ZIP, "movie.mp4", "video/mp4", "application/zip"),
    "mp3-named-mp4": (samples.MP3, "song.mp4", "video/mp4", "audio/mpeg"),
    "text": (b"just some text", "notes.gif", "image/gif", None),
}


@pytest.mark.parametrize("case", IMPOSTORS)
async def test_content_that_is_not_an_accepted_type_is_415(
    api: Api, runtime: Runtime, media_dir: Path, case: str
) -> None:
    content, filename, content_type, detected = IMPOSTORS[case]
    instructor = await api.account("instructor")
    response = await upload(
        api.client, instructor.headers, content, filename=filename, content_type=content_type
    )
    assert response.status_code == 415, response.text
    error = error_of(response)
    assert error["code"] == "unsupported_media_type"
    assert error["details"]["detected"] == detected
    assert error["details"]["allowed"] == ["gif", "jpg", "mov", "mp4", "png", "webm", "webp"]
    assert stored_files(media_dir) == []
    assert await audit_rows(runtime) == []


async def test_a_json_body_is_415(api: Api) -> None:
    instructor = await api.account("instructor")
    response = await api.client.post("/api/upload", json={"file": "aGVsbG8="}, headers=instructor.headers)
    assert response.status_code == 415, response.text
    assert error_of(response)["code"] == "multipart_required"


# -- 422 and 400 ----------------------------------------------------------------------------------------


def file_error(response: httpx.Response, kind: str) -> None:
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert [(item["field"], item["type"]) for item in error["details"]] == [("file", kind)]


async def test_missing_file_field_is_422(api: Api) -> None:
    instructor = await api.account("instructor")
    response = await upload(api.client, instructor.headers, samples.png(), field="image")
    file_error(response, "missing")


async def test_no_body_at_all_is_422(api: Api) -> None:
    instructor = await api.account("instructor")
    file_error(await api.client.post("/api/upload", headers=instructor.headers), "missing")


async def test_a_text_field_named_file_is_422(api: Api) -> None:
    instructor = await api.account("instructor")
    response = await api.client.post("/api/upload", data={"file": "not a file"}, headers=instructor.headers)
    # httpx sends a form without files as urlencoded: that is not multipart.
    assert response.status_code == 415, response.text
    body = multipart("b0undary", [("file", None, b"not a file")])
    response = await api.client.post(
        "/api/upload",
        content=body,
        headers={**instructor.headers, "Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    file_error(response, "file_type")


async def test_an_empty_file_is_422(api: Api) -> None:
    instructor = await api.account("instructor")
    file_error(await upload(api.client, instructor.headers, b""), "empty")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n\r\n"),  # no boundary
        ("multipart/form-data; boundary=x", b"garbage without any boundary" * 10),
    ],
    ids=["no-boundary", "garbage"],
)
async def test_malformed_multipart_is_a_clean_error(api: Api, content_type: str, body: bytes) -> None:
    instructor = await api.account("instructor")
    response = await api.client.post(
        "/api/upload", content=body, headers={**instructor.headers, "Content-Type": content_type}
    )
    assert response.status_code in (400, 422), response.text
    assert error_of(response)["code"] in ("invalid_multipart", "validation_error")


async def test_two_files_are_refused(api: Api, media_dir: Path) -> None:
    instructor = await api.account("instructor")
    body = multipart("b", [("file", "a.png", samples.png()), ("file", "b.png", samples.png())])
    response = await api.client.post(
        "/api/upload",
        content=body,
        headers={**instructor.headers, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400, response.text
    assert error_of(response)["code"] == "invalid_multipart"
    assert stored_files(media_dir) == []


# -- who may upload -------------------------------------------------------------------------------------

# fmt: off
MATRIX: dict[str, tuple[int, str | None]] = {
    "anonymous":              (401, "not_authenticated"),
    "learner":                (403, "insufficient_role"),
    "instructor":             (201, None),
    "admin":                  (201, None),
    "blocked learner":        (403, "insufficient_role"),
    "blocked instructor":     (403, "user_blocked"),
    "blocked admin":          (403, "user_blocked"),
    "deactivated instructor": (401, "account_deactivated"),
}
# fmt: on


async def caller(api: Api, who: str) -> dict[str, str]:
    if who == "anonymous":
        return {}
    role = who.split()[-1]
    account = await api.account(role, blocked=who.startswith("blocked"), active=not who.startswith("deact"))
    return bearer(account.access_token)


@pytest.mark.parametrize(("who", "expected"), MATRIX.items(), ids=list(MATRIX))
async def test_permission_matrix(
    api: Api, runtime: Runtime, media_dir: Path, who: str, expected: tuple[int, str | None]
) -> None:
    """Upload is not course-scoped: the role and the blocked flag decide (docs/PRODUCT.md)."""
    status, code = expected
    response = await upload(api.client, await caller(api, who), samples.png())
    assert response.status_code == status, response.text
    if status == 201:
        assert len(stored_files(media_dir)) == 1 and len(await audit_rows(runtime)) == 1
    else:
        assert error_of(response)["code"] == code
        assert stored_files(media_dir) == [] and await audit_rows(runtime) == []


async def test_refusals_come_before_the_body_is_read(api: Api) -> None:
    """An anonymous or learner request is answered without pulling the (huge) upload."""
    learner = await api.account("learner")
    for headers, status in (({}, 401), (learner.headers, 403)):
        body = CountingBody(b"--x\r\n", total=10 * 1024 * 1024)
        response = await api.client.post(
            "/api/upload",
            content=body,
            headers={**headers, "Content-Type": "multipart/form-data; boundary=x"},
        )
        assert response.status_code == status
        assert body.sent == 0


# -- the /media/ mount ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/media/",
        "/media/0123456789abcdef0123456789abcdef.png",  # well-formed but never stored
        "/media/../../etc/passwd",
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/media/.htaccess",
        "/media/sub/0123456789abcdef0123456789abcdef.png",
    ],
)
async def test_media_mount_serves_only_stored_files(
    api: Api, media_client: httpx.AsyncClient, media_dir: Path, path: str
) -> None:
    response = await media_client.get(path)
    assert response.status_code == 404, response.text
    assert error_of(response)["code"] == "not_found"


async def test_media_mount_never_serves_partial_or_foreign_files(
    media_client: httpx.AsyncClient, media_dir: Path
) -> None:
    media_dir.mkdir(parents=True)
    name = "0123456789abcdef0123456789abcdef.png"
    (media_dir / f".{name}.part").write_bytes(b"half")
    (media_dir / "notes.txt").write_bytes(b"secret")
    (media_dir / name).write_bytes(samples.png())
    assert (await media_client.get(f"/media/.{name}.part")).status_code == 404
    assert (await media_client.get("/media/notes.txt")).status_code == 404
    assert (await media_client.get(f"/media/{name}")).status_code == 200


async def test_media_mount_refuses_writes(media_client: httpx.AsyncClient) -> None:
    response = await media_client.post("/media/0123456789abcdef0123456789abcdef.png", content=b"x")
    assert response.status_code == 405


def test_media_routes_reads_the_directory_from_settings(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, media_dir=tmp_path / "elsewhere")
    (mount,) = media_routes(settings)
    assert mount.path == "/media"  # type: ignore[attr-defined]
    assert Path(mount.app.directory) == tmp_path / "elsewhere"  # type: ignore[attr-defined]


async def test_openapi_documents_the_upload(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/openapi.json")).json()
    operation = document["paths"]["/api/upload"]["post"]
    assert operation["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/MediaPublic"
    }
    assert {"401", "403", "413", "415", "422", "429", "503"} <= set(operation["responses"])
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"]
    assert body["properties"]["file"] == {"type": "string", "format": "binary"}
    assert "multipart/form-data" in operation["description"]
    assert operation["security"] == [{"bearerAuth": []}]
