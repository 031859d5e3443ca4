"""POST /api/upload with CLOUDINARY_URL set: the official SDK talks real HTTP to a Cloudinary stand-in on
loopback (tests/standins/cloudinary_api.py), which checks the signature as Cloudinary does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.runtime import Runtime
from tests.helpers import Api
from tests.media import samples
from tests.media.helpers import audit_rows, error_of, upload
from tests.standins.cloudinary_api import CloudinaryApi, running_cloudinary_api, sign
from tests.standins.google_provider import closed_port

CLOUD = "learnflow-test"
API_KEY = "614335564976464"
API_SECRET = "a676b67565c6767a6767d6767f676fe1"


@pytest.fixture(scope="module")
def cloudinary_server() -> Iterator[CloudinaryApi]:
    with running_cloudinary_api(cloud_name=CLOUD, api_key=API_KEY, api_secret=API_SECRET) as server:
        yield server


@pytest.fixture
def cloudinary(cloudinary_server: CloudinaryApi) -> Iterator[CloudinaryApi]:
    cloudinary_server.reset()
    yield cloudinary_server
    cloudinary_server.reset()


@pytest.fixture(scope="module")
def refused_url() -> Iterator[str]:
    with closed_port() as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def settings_overrides(
    request: pytest.FixtureRequest, cloudinary: CloudinaryApi, refused_url: str, media_dir: Path
) -> dict[str, Any]:
    """Cloudinary pointing at the stand-in; a test picks a variant with indirect parametrization."""
    variant = getattr(request, "param", "configured")
    urls = {
        "configured": cloudinary.cloudinary_url(),
        "wrong_secret": cloudinary.cloudinary_url(api_secret="someone-elses-secret"),
        "wrong_key": cloudinary.cloudinary_url(api_key="000000000000000"),
        "wrong_cloud": cloudinary.cloudinary_url().replace(f"@{CLOUD}?", "@another-cloud?"),
        "unreachable": f"cloudinary://{API_KEY}:{API_SECRET}@{CLOUD}?upload_prefix={refused_url}",
    }
    return {
        "cloudinary_url": urls[variant],
        "media_dir": media_dir,
        "media_max_image_bytes": 4096,
        "media_max_video_bytes": 16384,
    }


@pytest.mark.parametrize(
    ("content", "filename", "fmt", "kind"),
    [
        (samples.png(), "pixel.png", "png", "image"),
        (samples.JPEG, "photo.jpg", "jpg", "image"),
        (samples.MP4, "clip.mp4", "mp4", "video"),
        (samples.MOV, "clip.mov", "mov", "video"),
        (samples.WEBM, "clip.webm", "webm", "video"),
    ],
    ids=["png", "jpg", "mp4", "mov", "webm"],
)
async def test_signed_upload_reaches_cloudinary_and_returns_its_url(
    api: Api,
    runtime: Runtime,
    cloudinary: CloudinaryApi,
    media_dir: Path,
    content: bytes,
    filename: str,
    fmt: str,
    kind: str,
) -> None:
    instructor = await api.account("instructor")
    response = await upload(api.client, instructor.headers, content, filename=filename)
    assert response.status_code == 201, response.text
    body = response.json()

    (received,) = cloudinary.uploads
    assert (received.cloud, received.resource_type) == (CLOUD, kind)
    assert received.size == len(content)
    assert received.params["api_key"] == API_KEY
    assert received.params["signature"] == sign(received.params, API_SECRET)
    assert received.filename == f"upload.{fmt}"  # generated, never the client's name

    asset = cloudinary.asset_for_url(body["url"])
    assert asset is not None and asset.data == content
    assert body == {
        "url": f"{cloudinary.base_url}/{CLOUD}/{kind}/upload/v{asset.version}/{asset.public_id}.{fmt}",
        "public_id": asset.public_id,
        "format": fmt,
        "resource_type": kind,
        "bytes": len(content),
    }
    async with httpx.AsyncClient() as http:  # the delivery URL really serves the file
        delivered = await http.get(body["url"])
    assert delivered.status_code == 200 and delivered.content == content

    assert not media_dir.exists()  # nothing went to local disk
    (row,) = await audit_rows(runtime)
    assert row.details == {
        "public_id": asset.public_id,
        "bytes": len(content),
        "format": fmt,
        "resource_type": kind,
        "storage": "cloudinary",
    }


async def test_client_filename_and_fields_are_not_forwarded(api: Api, cloudinary: CloudinaryApi) -> None:
    admin = await api.account("admin")
    response = await upload(
        api.client,
        admin.headers,
        samples.GIF,
        filename="../../etc/passwd.gif",
        data={"public_id": "hijack", "overwrite": "true", "notification_url": "http://evil.test/"},
    )
    assert response.status_code == 201, response.text
    (received,) = cloudinary.uploads
    assert received.filename == "upload.gif"
    assert set(received.params) == {"timestamp", "signature", "api_key"}
    assert response.json()["public_id"] != "hijack"


@pytest.mark.parametrize(
    "settings_overrides",
    ["wrong_secret", "wrong_key", "wrong_cloud"],
    indirect=True,
)
async def test_refused_credentials_are_a_clear_503(
    api: Api, runtime: Runtime, cloudinary: CloudinaryApi, settings_overrides: dict[str, Any]
) -> None:
    instructor = await api.account("instructor")
    response = await upload(api.client, instructor.headers, samples.png())
    assert response.status_code == 503, response.text
    error = error_of(response)
    assert error["code"] == "media_storage_unavailable"
    assert error["details"] == {"provider": "cloudinary"}
    assert "someone-elses-secret" not in response.text and API_SECRET not in response.text
    assert len(cloudinary.uploads) == 1  # it did reach the stand-in, which refused it
    assert cloudinary.assets == {}
    assert await audit_rows(runtime) == []


@pytest.mark.parametrize("settings_overrides", ["unreachable"], indirect=True)
async def test_unreachable_cloudinary_is_503_with_retry_after(
    api: Api, runtime: Runtime, settings_overrides: dict[str, Any]
) -> None:
    instructor = await api.account("instructor")
    response = await upload(api.client, instructor.headers, samples.MP4, filename="a.mp4")
    assert response.status_code == 503, response.text
    assert error_of(response)["code"] == "media_storage_unavailable"
    assert response.headers["retry-after"].isdigit()
    assert await audit_rows(runtime) == []


@pytest.mark.parametrize("status", [500, 503, 420])
async def test_cloudinary_failures_are_503(api: Api, cloudinary: CloudinaryApi, status: int) -> None:
    cloudinary.fail_status = status
    instructor = await api.account("instructor")
    response = await upload(api.client, instructor.headers, samples.png())
    assert response.status_code == 503, response.text
    assert error_of(response)["code"] == "media_storage_unavailable"


async def test_checks_happen_before_anything_is_sent(api: Api, cloudinary: CloudinaryApi) -> None:
    instructor = await api.account("instructor")
    learner = await api.account("learner")
    assert (await upload(api.client, instructor.headers, samples.PDF)).status_code == 415
    too_big = samples.padded(samples.png(), 4097)
    assert (await upload(api.client, instructor.headers, too_big)).status_code == 413
    assert (await upload(api.client, instructor.headers, b"")).status_code == 422
    assert (await upload(api.client, learner.headers, samples.png())).status_code == 403
    assert cloudinary.uploads == []
