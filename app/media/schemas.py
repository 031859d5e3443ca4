"""What an upload returns (Cloudinary's field names, which the seed's clients already read)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class MediaPublic(BaseModel):
    url: str = Field(description="Absolute URL serving the stored file")
    public_id: str = Field(description="The storage's id for the file")
    format: str = Field(
        description="File format from the content's magic bytes: jpg, png, gif, webp, mp4, webm, mov"
    )
    resource_type: Literal["image", "video"]
    bytes: int = Field(ge=0, description="Stored size in bytes")
