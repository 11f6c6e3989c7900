"""The baseline for bench/appliance_bench.py: a bare Litestar app answering the same routes
as the appliance (GET /fax/{id}, POST /fax with a multipart body, GET /health/ready) without
auth, storage or a database, served by the same uvicorn settings."""

from __future__ import annotations

import sys
from typing import Any

import uvicorn
from litestar import Litestar, Request, get, post

JOB = {
    "id": "0" * 32,
    "to": "+12025550143",
    "status": "SUCCESS",
    "pages": 1,
    "error": None,
    "backend": "test",
    "provider_sid": "x",
    "created_at": "2026-01-01T00:00:00.000Z",
    "updated_at": "2026-01-01T00:00:00.000Z",
}


@get("/fax/{job_id:str}")
async def get_fax(job_id: str) -> dict[str, Any]:
    return {**JOB, "id": job_id}


@post("/fax", status_code=202)
async def send_fax(request: Request[Any, Any, Any]) -> dict[str, Any]:
    form = await request.form()  # parse the upload like the appliance must, then drop it
    return {**JOB, "to": form.get("to"), "status": "queued"}


@get("/health/ready")
async def ready() -> dict[str, str]:
    return {"status": "ready"}


def main() -> None:
    app = Litestar([get_fax, send_fax, ready], request_max_body_size=11 * 1024 * 1024)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
