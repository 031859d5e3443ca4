"""HTML sanitizing for lesson text with nh3 (Ammonia): no scripts, no event handlers, no javascript: URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

import nh3

from app.config import Settings

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
    "figure",
    "figcaption",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Classes are how an author could reach the page's own styles (utility classes can lay a block over
# the whole page), so only code-language markers survive; every other class is dropped.
CODE_LANGUAGES = (
    "bash c cpp csharp css diff go html java javascript js json jsx kotlin markdown php plaintext python "
    "ruby rust scala shell sql swift text ts tsx typescript xml yaml"
).split()
_ALLOWED_CLASSES = {"code": {f"language-{name}" for name in CODE_LANGUAGES}}
OWN_MEDIA_PREFIX = "/media/"


def image_sources(settings: Settings) -> tuple[str, ...]:
    """URL prefixes lesson images may load from: our own uploads, the configured Cloudinary cloud and
    LESSON_IMAGE_SOURCES. Anything else (a tracking pixel on someone's server) loses its `src`."""
    prefixes = [OWN_MEDIA_PREFIX, *settings.lesson_image_prefixes]
    if settings.cloudinary_url:
        cloud = urlsplit(settings.cloudinary_url.strip()).hostname
        if cloud:
            prefixes.append(f"https://res.cloudinary.com/{cloud}/")
    return tuple(prefixes)


def sanitize_html(html: str, *, images_from: tuple[str, ...] = (OWN_MEDIA_PREFIX,)) -> str:
    def keep_allowed_images(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            allowed = value.startswith(images_from) and not value.startswith("//")
            return value if allowed else None
        return value

    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        allowed_classes=_ALLOWED_CLASSES,
        attribute_filter=keep_allowed_images,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
