"""List responses: a JSON array plus X-Total-Count and an RFC 8288 Link header."""

from __future__ import annotations

from starlette.requests import Request


def page_headers(request: Request, *, skip: int, limit: int, total: int) -> dict[str, str]:
    def link(rel: str, at: int) -> str:
        return f'<{request.url.include_query_params(skip=at, limit=limit)}>; rel="{rel}"'

    links = [link("first", 0)]
    if skip > 0:
        links.append(link("prev", max(0, skip - limit)))
    if skip + limit < total:
        links.append(link("next", skip + limit))
    links.append(link("last", max(0, (total - 1) // limit * limit)))
    return {"X-Total-Count": str(total), "Link": ", ".join(links)}
