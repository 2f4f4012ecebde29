"""What routes may ask for, as `Annotated` aliases: the settings, the library, the backend, and
the caller's role. Routes never reach into `app.state` themselves.

Dependencies that do no I/O are `async def`: FastAPI runs plain `def` dependencies in a thread
pool, and each hop costs more than the work itself on a fast query."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from reviewlens.model import DocType, SectionKind, Stance
from reviewlens.settings import Settings
from search_api.backend import Filters, SearchBackend
from search_api.errors import ApiError
from search_api.service import Library

Role = Literal["reader", "uploader", "admin"]
_RANK: dict[str, int] = {"reader": 1, "uploader": 2, "admin": 3}

_bearer = HTTPBearer(auto_error=False, description="An API key from REVIEWLENS_API_KEYS")


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _library(request: Request) -> Library:
    library: Library = request.app.state.library
    return library


async def _backend(request: Request) -> SearchBackend:
    library: Library = request.app.state.library
    return library.backend


SettingsDep = Annotated[Settings, Depends(_settings)]
LibraryDep = Annotated[Library, Depends(_library)]
BackendDep = Annotated[SearchBackend, Depends(_backend)]


def role_of(keys: dict[str, str], presented: str) -> str | None:
    """The role of a presented key, comparing in constant time against every configured key."""
    found: str | None = None
    for key, role in keys.items():
        if hmac.compare_digest(key.encode(), presented.encode()):
            found = role
    return found


def require(role: Role) -> Callable[..., Coroutine[Any, Any, str]]:
    """A dependency that lets the call through when the key's role is at least `role`."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        keys: dict[str, str] = request.app.state.api_keys
        if not keys:
            return "admin"  # no keys: the server only listens on loopback
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiError(
                401,
                "unauthorized",
                "An API key is required (Authorization: Bearer KEY).",
                challenge,
            )
        granted = role_of(keys, credentials.credentials)
        if granted is None:
            raise ApiError(401, "unauthorized", "The API key is not recognised.", challenge)
        if _RANK[granted] < _RANK[role]:
            raise ApiError(403, "forbidden", f"This needs the {role} role; the key is {granted}.")
        return granted

    return check


Reader = Depends(require("reader"))
Uploader = Depends(require("uploader"))
Admin = Depends(require("admin"))


async def _filters(
    doc_type: Annotated[list[DocType], Query(description="Document type; repeatable, any of")] = [],  # noqa: B006
    year_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    agency: Annotated[list[str], Query(description="Agency mentioned; repeatable, any of")] = [],  # noqa: B006
    section_kind: Annotated[list[SectionKind], Query(description="Repeatable, any of")] = [],  # noqa: B006
    stance: Annotated[list[Stance], Query(description="Repeatable, any of")] = [],  # noqa: B006
) -> Filters:
    if year_from is not None and year_to is not None and year_from > year_to:
        raise ApiError(400, "invalid_parameter", "year_from is after year_to.")
    return Filters(
        doc_types=doc_type,
        year_from=year_from,
        year_to=year_to,
        agencies=agency,
        section_kinds=section_kind,
        stances=stance,
    )


async def _filters_with_themes(
    base: Annotated[Filters, Depends(_filters)],
    theme: Annotated[
        list[str], Query(description="Theme id; repeatable, a passage must carry all")
    ] = [],  # noqa: B006
) -> Filters:
    return base.model_copy(update={"themes": theme})


# filters without `theme` (frequency endpoints use theme to pick rows) and with it (search)
BaseFiltersDep = Annotated[Filters, Depends(_filters)]
FiltersDep = Annotated[Filters, Depends(_filters_with_themes)]
ThemesParam = Annotated[list[str], Query(alias="theme", description="Theme ids to report")]
