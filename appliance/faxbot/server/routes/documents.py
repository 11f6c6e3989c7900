"""GET /documents/{token}: a document link (faxbot.links), no API key. Serves the document
once, within the link's time; anything else is 404 `document_link_not_found`, whether the
link never existed, expired or was used."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from faxbot.server.error_codes import ErrorCode
from faxbot.server.errors import ApiError
from faxbot.server.lifecycle import Appliance


@get("/documents/{token:str}", include_in_schema=False, cache=False)
async def get_document_link(appliance: NamedDependency[Appliance], token: FromPath[str]) -> Stream:
    chunks = await appliance.links.open(token) if appliance.links is not None else None
    if chunks is None:
        raise ApiError(
            ErrorCode.DOCUMENT_LINK_NOT_FOUND,
            "no document behind this link (never issued, expired, or used)",
        )
    return Stream(chunks, media_type="application/pdf")
