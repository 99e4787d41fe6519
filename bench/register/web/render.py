"""One way to answer a page: the same data dict becomes the HTML page (Jinja2) or, for
`?format=json` / `Accept: application/json`, the JSON twin, so a page and its JSON always share
one role check and one domain call."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    current: bool = False


def wants_json(request: Request) -> bool:
    fmt = request.query_params.get("format")
    if fmt:
        return fmt == "json"
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _jsonable(value: Any) -> Any:
    if isinstance(value, Markup):
        return None  # charts are pictures of data that is in the JSON already
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {k: _jsonable(getattr(value, k)) for k in value.__dataclass_fields__}
    return value


def _when(value: Any) -> str:
    """ISO timestamps as people read them: 2026-12-01 14:03 UTC."""
    if not value:
        return ""
    text = str(value)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    return parsed.strftime("%Y-%m-%d %H:%M UTC") if len(text) > 10 else parsed.strftime("%Y-%m-%d")


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


class Renderer:
    def __init__(self, register_name: str = "Device bank register") -> None:
        self.register_name = register_name
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES)),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["when"] = _when
        self.env.filters["num"] = _num
        self.env.filters["tojson_pretty"] = lambda v: json.dumps(_jsonable(v), indent=2, sort_keys=True)
        self.env.globals["static_url"] = lambda name: f"/static/{name}"

    def html(self, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        body = self.env.get_template(template).render(register_name=self.register_name, **context)
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)

    def page(
        self,
        request: Request,
        template: str,
        data: dict[str, Any],
        *,
        chrome: dict[str, Any],
        status: int = 200,
        charts: dict[str, Markup] | None = None,
    ) -> Response:
        if wants_json(request):
            return JSONResponse(_jsonable(data), status_code=status, headers={"Cache-Control": "no-store"})
        return self.html(template, {**chrome, **data, "data": data, "charts": charts or {}}, status)


# Pages hold personal and donor data: never cached, never framed, no inline script or foreign origin.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}
