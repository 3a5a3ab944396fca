"""The intake's peer: a plain FastAPI webhook receiver, as a Python team would write one.

uvicorn[standard] (uvloop, httptools), one worker process; a pydantic model of Zoho's item;
sha256 of the body as the dedupe key; asyncpg, and one
`INSERT ... ON CONFLICT DO NOTHING RETURNING id` in its own transaction (autocommit) before
the 202. It writes the same row into the same `tds_sync_queue` table (migrated by the
benchmark), so both contenders pay for the same indexes.

    python -m bench.fastapi_receiver --port 8099 --dsn postgresql://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import hashlib
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import asyncpg
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, ValidationError

INSERT = """
INSERT INTO tds_sync_queue
    (entity_type, source_entity_id, operation_type, status, priority, attempt_count,
     idempotency_key, payload, source_modified_at, created_at)
VALUES ('product', $1, 'upsert', 'pending', 5, 0, $2, $3, $4, $5)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING id
"""


class Item(BaseModel):
    model_config = ConfigDict(extra="allow")

    item_id: str
    name: str
    sku: str | None = None
    rate: float | None = None
    status: str | None = None
    last_modified_time: datetime | None = None


class ProductWebhook(BaseModel):
    item: Item


def create_app(dsn: str) -> FastAPI:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_app):
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=10)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/zoho/webhooks/products", status_code=202)
    async def product_webhook(request: Request):
        body = await request.body()
        try:
            event = ProductWebhook.model_validate_json(body)
        except ValidationError as exc:
            raise HTTPException(422, detail=exc.errors(include_url=False)) from None
        key = hashlib.sha256(body).hexdigest()
        modified = event.item.last_modified_time
        async with pool.acquire() as connection:
            row = await connection.fetchrow(INSERT, event.item.item_id, key, body.decode(), modified, datetime.now(UTC))
        return JSONResponse({"queued": row is not None, "id": row and row["id"]}, status_code=202)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.dsn),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
