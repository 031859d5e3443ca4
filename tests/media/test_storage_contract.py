"""The media storage seam's contract (app/media/base.py), run against every implementation: local disk
and Cloudinary (through the official SDK against the loopback stand-in). Plus the factory, the
CLOUDINARY_URL parser and magic-byte detection, none of which need a store."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app.config import Settings
from app.errors import UnsupportedMediaType
from app.media.base import MediaRejected, MediaStorage, MediaStorageUnavailable, MediaType
from app.media.cloudinary import CloudinaryStorage, parse_cloudinary_url
from app.media.local import LocalStorage
from app.media.routes import media_routes
from app.media.service import ALLOWED_FORMATS, detect_media_type
from app.media.storage import storage_for
from tests.media import samples
from tests.standins.cloudinary_api import CloudinaryApi, running_cloudinary_api
from tests.standins.google_provider import closed_port

CLOUD, API_KEY, API_SECRET = "contract", "1234567890", "contract-secret"

Fetch = Callable[[str], Awaitable[bytes | None]]


@dataclass
class Subject:
    storage: MediaStorage
    fetch: Fetch  # the bytes a stored URL serves, or None when it serves nothing


@pytest.fixture(scope="module")
def cloudinary_server() -> Iterator[CloudinaryApi]:
    with running_cloudinary_api(cloud_name=CLOUD, api_key=API_KEY, api_secret=API_SECRET) as server:
        yield server


async def _http_fetch(client: httpx.AsyncClient, url: str) -> bytes | None:
    response = await client.get(url)
    return response.content if response.status_code == 200 else None


@pytest.fixture(params=["local", "cloudinary"])
async def subject(
    request: pytest.FixtureRequest, tmp_path: Path, cloudinary_server: CloudinaryApi
) -> AsyncIterator[Subject]:
    if request.param == "local":
        settings = Settings(_env_file=None, media_dir=tmp_path / "media")
        app = Starlette(routes=media_routes(settings))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Subject(LocalStorage(tmp_path / "media"), lambda url: _http_fetch(client, url))
    else:
        cloudinary_server.reset()
        # A small chunk size, so the contract also covers the chunked (upload_large) path.
        storage = CloudinaryStorage(cloudinary_server.cloudinary_url(), chunk_bytes=4096)
        async with httpx.AsyncClient() as client:
            yield Subject(storage, lambda url: _http_fetch(client, url))


async def save(storage: MediaStorage, content: bytes) -> tuple[MediaType, object]:
    media = detect_media_type(content)
    return media, await storage.save(io.BytesIO(content), media=media, size=len(content))


@pytest.mark.parametrize(
    "content",
    [samples.png(), samples.JPEG, samples.GIF, samples.WEBP, samples.MP4, samples.WEBM, samples.MOV],
    ids=["png", "jpg", "gif", "webp", "mp4", "webm", "mov"],
)
async def test_save_stores_exactly_the_bytes_and_says_where(subject: Subject, content: bytes) -> None:
    media = detect_media_type(content)
    stored = await subject.storage.save(io.BytesIO(content), media=media, size=len(content))
    assert stored.bytes == len(content)
    assert stored.resource_type == media.kind
    assert stored.format == media.extension
    assert stored.storage == subject.storage.name
    assert stored.public_id and stored.url
    assert await subject.fetch(stored.url) == content


async def test_save_reads_from_the_start(subject: Subject) -> None:
    content = samples.png()
    file = io.BytesIO(content)
    file.seek(len(content))  # wherever the caller left it
    stored = await subject.storage.save(file, media=detect_media_type(content), size=len(content))
    assert await subject.fetch(stored.url) == content


async def test_every_save_is_a_new_object(subject: Subject) -> None:
    content = samples.GIF
    media = detect_media_type(content)
    first = await subject.storage.save(io.BytesIO(content), media=media, size=len(content))
    second = await subject.storage.save(io.BytesIO(content), media=media, size=len(content))
    assert first.public_id != second.public_id and first.url != second.url
    assert await subject.fetch(first.url) == await subject.fetch(second.url) == content


async def test_large_content_round_trips(subject: Subject) -> None:
    """Bigger than the Cloudinary subject's chunk size: several chunks, reassembled in order."""
    content = samples.MP4 + bytes(range(256)) * 80  # ~20 KiB, not all zeros
    stored = await subject.storage.save(
        io.BytesIO(content), media=detect_media_type(content), size=len(content)
    )
    assert stored.bytes == len(content)
    assert await subject.fetch(stored.url) == content


# -- failures are typed ---------------------------------------------------------------------------------


async def test_local_unwritable_directory_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    storage = LocalStorage(blocker / "media")
    content = samples.png()
    with pytest.raises(MediaStorageUnavailable) as raised:
        await storage.save(io.BytesIO(content), media=detect_media_type(content), size=len(content))
    assert raised.value.status == 503 and raised.value.details == {"provider": "local"}
    assert blocker.read_bytes() == b""


async def test_local_leaves_no_temporary_file_behind(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    content = samples.WEBP
    stored = await storage.save(io.BytesIO(content), media=detect_media_type(content), size=len(content))
    assert [path.name for path in tmp_path.iterdir()] == [f"{stored.public_id}.webp"]


async def test_cloudinary_wrong_secret_is_unavailable(cloudinary_server: CloudinaryApi) -> None:
    cloudinary_server.reset()
    storage = CloudinaryStorage(cloudinary_server.cloudinary_url(api_secret="wrong"))
    with pytest.raises(MediaStorageUnavailable) as raised:
        await save(storage, samples.png())
    assert raised.value.headers == {}  # retrying will not help until the configuration is fixed
    assert cloudinary_server.assets == {}


async def test_cloudinary_wrong_secret_on_a_chunked_upload_is_unavailable(
    cloudinary_server: CloudinaryApi,
) -> None:
    cloudinary_server.reset()
    storage = CloudinaryStorage(cloudinary_server.cloudinary_url(api_secret="wrong"), chunk_bytes=64)
    with pytest.raises(MediaStorageUnavailable):
        await save(storage, samples.padded(samples.MP4, 1000))


async def test_cloudinary_unreachable_is_unavailable() -> None:
    with closed_port() as port:
        storage = CloudinaryStorage(
            f"cloudinary://{API_KEY}:{API_SECRET}@{CLOUD}?upload_prefix=http://127.0.0.1:{port}"
        )
        with pytest.raises(MediaStorageUnavailable) as raised:
            await save(storage, samples.png())
    assert raised.value.headers["Retry-After"].isdigit()


async def test_cloudinary_refusing_the_content_is_rejected(cloudinary_server: CloudinaryApi) -> None:
    """Content that passed our magic-byte check but that Cloudinary cannot process: 422 naming `file`."""
    cloudinary_server.reset()
    storage = CloudinaryStorage(cloudinary_server.cloudinary_url())
    image = detect_media_type(samples.png())
    with pytest.raises(MediaRejected) as raised:
        await storage.save(io.BytesIO(b"\x00" * 100), media=image, size=100)
    assert raised.value.status == 422
    assert raised.value.details[0]["field"] == "file"
    assert raised.value.details[0]["message"] == "Invalid image file"


async def test_cloudinary_stale_request_is_not_blamed_on_the_file(
    cloudinary_server: CloudinaryApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 400 about our request rather than the content (here: our clock far off) is a 503, not a 422."""
    import cloudinary.utils

    cloudinary_server.reset()
    monkeypatch.setattr(cloudinary.utils, "now", lambda: "1000000000")
    with pytest.raises(MediaStorageUnavailable):
        await save(CloudinaryStorage(cloudinary_server.cloudinary_url()), samples.png())
    assert [upload.params["timestamp"] for upload in cloudinary_server.uploads] == ["1000000000"]


async def test_two_cloudinary_storages_do_not_share_credentials(cloudinary_server: CloudinaryApi) -> None:
    """Options travel with each call; the SDK's process-wide config is left alone."""
    import cloudinary

    cloudinary_server.reset()
    good = CloudinaryStorage(cloudinary_server.cloudinary_url())
    bad = CloudinaryStorage(cloudinary_server.cloudinary_url(api_secret="wrong"))
    with pytest.raises(MediaStorageUnavailable):
        await save(bad, samples.png())
    _, stored = await save(good, samples.png())
    assert stored is not None
    assert cloudinary.config().api_secret not in ("wrong", API_SECRET)


# -- the factory and the URL ----------------------------------------------------------------------------


def test_factory_picks_local_without_a_cloudinary_url(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, media_dir=tmp_path, cloudinary_url=None)
    storage = storage_for(settings)
    assert isinstance(storage, LocalStorage) and storage.directory == tmp_path
    assert storage_for(settings) is storage  # built once per configuration


def test_factory_picks_cloudinary_with_a_url(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, media_dir=tmp_path, cloudinary_url="cloudinary://k:s@my-cloud")
    storage = storage_for(settings)
    assert isinstance(storage, CloudinaryStorage) and storage.cloud_name == "my-cloud"


def test_parse_cloudinary_url() -> None:
    options = parse_cloudinary_url(
        "cloudinary://123:abc%2Fdef@demo?upload_prefix=http://127.0.0.1:9&secure=true"
    )
    assert options == {
        "cloud_name": "demo",
        "api_key": "123",
        "api_secret": "abc/def",
        "upload_prefix": "http://127.0.0.1:9",
        "secure": "true",
    }


@pytest.mark.parametrize(
    "url",
    [
        "https://123:topsecret@demo",
        "cloudinary://demo",
        "cloudinary://123@demo",
        "cloudinary://123:topsecret@",
        "cloudinary://123:topsecret@[::1",
        "",
    ],
)
def test_malformed_cloudinary_url_fails_at_app_creation(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_cloudinary_url(url)
    assert "topsecret" not in str(raised.value)
    if url:
        settings = Settings(_env_file=None, media_dir=tmp_path, cloudinary_url=url)
        with pytest.raises(ValueError):
            media_routes(settings)


# -- magic bytes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind", "extension"),
    [
        (samples.JPEG, "image", "jpg"),
        (samples.png(), "image", "png"),
        (samples.GIF, "image", "gif"),
        (samples.WEBP, "image", "webp"),
        (samples.MP4, "video", "mp4"),
        (samples.WEBM, "video", "webm"),
        (samples.MOV, "video", "mov"),
    ],
)
def test_detects_accepted_types(content: bytes, kind: str, extension: str) -> None:
    media = detect_media_type(content)
    assert (media.kind, media.extension) == (kind, extension)


@pytest.mark.parametrize(
    "content",
    [samples.PDF, samples.ELF, samples.HTML, samples.SVG, samples.ZIP, samples.MP3, b"", b"\x00" * 64],
    ids=["pdf", "elf", "html", "svg", "zip", "mp3", "empty", "zeros"],
)
def test_refuses_everything_else(content: bytes) -> None:
    with pytest.raises(UnsupportedMediaType) as raised:
        detect_media_type(content)
    assert raised.value.details["allowed"] == ALLOWED_FORMATS
