"""The admin console at /admin: the static files Vite builds into `server/console/`
(package data, git-ignored), served as a single-page app. Not in the spec and no API key:
the files hold no data; the app asks for a key and calls the API with it in a header.

- `/admin` redirects to `/admin/`;
- `/admin/assets/<file>` is a content-hashed build file: cached for a year, immutable;
- any other `/admin/<route>` without a file extension is the app's own route: `index.html`,
  never cached (a new build must be picked up at once);
- another file at the top of the build (a favicon) is served uncached; a missing file is 404.

Every answer carries CONTENT_SECURITY_POLICY and the headers of SECURITY_HEADERS. Text files
are gzipped for clients that accept it (compressed once per file and build, in memory): only
here, so the API's answers (streamed PDFs, the Prometheus text) are untouched."""

from __future__ import annotations

import asyncio
import functools
import gzip
import mimetypes
from pathlib import Path, PurePosixPath
from typing import Any

from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect

FOLDER = Path(__file__).parent / "console"  # where `npm run build` in console/ writes
PREFIX = "/admin"
ASSETS = "assets"
INDEX = "index.html"

# The console loads only its own files; talks only to this appliance; shows a received
# fax's PDF (fetched with the key, as a blob: URL) in a frame/object; may be framed by no
# one. docs/console.md ("Serving") explains each directive.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "frame-src 'self' blob:",
        "object-src 'self' blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
NOT_BUILT = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>Faxbot console not built</title></head><body>\n"
    "<h1>The console is not built in this install</h1>\n"
    "<p>The console is not built in this install: run <code>bash scripts/setup</code> "
    "(it runs <code>npm run build</code> in <code>console/</code>), then restart the "
    "appliance.</p>\n</body></html>\n"
)
# Types the platform's table may lack or get wrong; the rest come from `mimetypes`. Litestar
# adds `; charset=utf-8` to every text/* type itself, so none is written here.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ico": "image/x-icon",
    ".txt": "text/plain",
    ".webmanifest": "application/manifest+json",
}
COMPRESSIBLE = {".js", ".mjs", ".css", ".html", ".json", ".map", ".svg", ".txt", ".webmanifest"}
MIN_GZIP_BYTES = 1024  # smaller files gain nothing worth a header


def content_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


@functools.lru_cache(maxsize=512)
def _read(path: Path, mtime_ns: int, size: int, gzipped: bool) -> bytes:
    """A file's bytes, gzipped or not; cached by its identity (a rebuilt file is new)."""
    data = path.read_bytes()
    return gzip.compress(data, compresslevel=9, mtime=0) if gzipped else data


def _load(path: Path, accepts_gzip: bool) -> tuple[bytes, bool] | None:
    """The file's bytes and whether they are gzipped; None when it is not a file."""
    try:
        found = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    gzipped = (
        accepts_gzip and path.suffix.lower() in COMPRESSIBLE and found.st_size >= MIN_GZIP_BYTES
    )
    return _read(path, found.st_mtime_ns, found.st_size, gzipped), gzipped


def _accepts_gzip(request: Request[Any, Any, Any]) -> bool:
    accepted = request.headers.get("accept-encoding", "")
    return any(part.split(";")[0].strip().lower() == "gzip" for part in accepted.split(","))


def _within(folder: Path, route: str) -> Path | None:
    """`route` (the path after /admin/) as a file under `folder`, or None when it would leave
    it or names a hidden file."""
    parts = PurePosixPath(route).parts
    if any(part in ("..", ".") or part.startswith(".") or "\\" in part for part in parts):
        return None
    return folder.joinpath(*parts)


def _answer(
    body: bytes | str,
    status: int,
    media_type: str,
    cache_control: str,
    gzipped: bool = False,
) -> Response[bytes | str]:
    headers = {**SECURITY_HEADERS, "Cache-Control": cache_control, "Vary": "Accept-Encoding"}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _not_found(message: str) -> Response[bytes | str]:
    return _answer(message, 404, "text/html", NO_CACHE)


def handlers(folder: Path = FOLDER) -> list[HTTPRouteHandler]:
    """The /admin handlers, serving the build in `folder`."""

    async def serve(request: Request[Any, Any, Any], route: str) -> Response[bytes | str]:
        index = await asyncio.to_thread(_load, folder / INDEX, False)
        if index is None:
            return _not_found(NOT_BUILT)
        gzip_ok = _accepts_gzip(request)
        path = _within(folder, route)
        is_asset = route == ASSETS or route.startswith(f"{ASSETS}/")
        if path is None:
            return _not_found("<!doctype html><title>Not found</title><p>Not found.</p>\n")
        if not is_asset and not PurePosixPath(route).suffix:  # one of the app's routes
            found = await asyncio.to_thread(_load, folder / INDEX, gzip_ok)
            assert found is not None  # it was there a moment ago; a rebuild replaces it
            return _answer(found[0], 200, content_type(INDEX), NO_CACHE, found[1])
        found = await asyncio.to_thread(_load, path, gzip_ok)
        if found is None:
            return _not_found("<!doctype html><title>Not found</title><p>No such file.</p>\n")
        cache = IMMUTABLE if is_asset else NO_CACHE
        return _answer(found[0], 200, content_type(path.name), cache, found[1])

    @get(PREFIX, include_in_schema=False, cache=False)
    async def console_root(request: Request[Any, Any, Any]) -> Response[Any]:
        # Litestar routes /admin and /admin/ here alike (its `path` drops the slash; the
        # request line's `raw_path` keeps it); only the former is redirected, so that the
        # app's relative URLs and its router see the base it was built for.
        raw_path = request.scope.get("raw_path") or b"/"
        if not raw_path.endswith(b"/"):
            return Redirect(f"{PREFIX}/", status_code=301, headers=dict(SECURITY_HEADERS))
        return await serve(request, "")

    @get(f"{PREFIX}/{{route:path}}", include_in_schema=False, cache=False)
    async def console_file(request: Request[Any, Any, Any], route: FromPath[Path]) -> Response[Any]:
        return await serve(request, str(route).lstrip("/"))

    return [console_root, console_file]


__all__ = ["CONTENT_SECURITY_POLICY", "FOLDER", "SECURITY_HEADERS", "handlers"]
