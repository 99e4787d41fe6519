"""SafeRoute: every router's route class, so every JSON body is read within the size limit and
through safejson (never Starlette's plain json.loads)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute

from bench.register.api.safejson import BadJson, loads

DEFAULT_MAX_BODY = 16 * 1024 * 1024


class SafeRequest(Request):
    """A request whose body is read within the size limit and whose JSON goes through safejson."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            limit: int = self.app.state.max_body
            length = self.headers.get("content-length")
            if length is not None and length.isdigit() and int(length) > limit:
                raise HTTPException(
                    413, f"request body of {length} bytes is larger than the limit of {limit}; send smaller batches"
                )
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > limit:
                    raise HTTPException(
                        413, f"request body larger than the limit of {limit} bytes; send smaller batches"
                    )
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = loads(await self.body())
            except BadJson as exc:  # FastAPI turns anything but an HTTPException into a bare 400
                raise HTTPException(400, str(exc)) from exc
        return self._json


class SafeRoute(APIRoute):
    def get_route_handler(self) -> Any:
        handler = super().get_route_handler()

        async def safe_handler(request: Request) -> Any:
            return await handler(SafeRequest(request.scope, request.receive))

        return safe_handler
