"""The one place that picks the media storage: Cloudinary when CLOUDINARY_URL is set, else local disk."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from app.config import Settings
from app.media.base import MediaStorage
from app.media.cloudinary import CloudinaryStorage
from app.media.local import LocalStorage


def storage_for(settings: Settings) -> MediaStorage:
    """The storage these settings choose, built once per distinct configuration.

    Raises ValueError for a malformed CLOUDINARY_URL; `media_routes` calls this while the app is
    created, so a bad URL stops the process at start rather than failing the first upload.
    """
    return _storage(settings.cloudinary_url or None, settings.media_dir)


@lru_cache(maxsize=16)
def _storage(cloudinary_url: str | None, media_dir: Path) -> MediaStorage:
    if cloudinary_url:
        return CloudinaryStorage(cloudinary_url)
    return LocalStorage(media_dir)
