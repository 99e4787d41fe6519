"""The OpenAPI 3.1 description of the register, written by hand (a test checks that every
route of the app is described here and nothing else is)."""

from __future__ import annotations

from typing import Any

from bench import __version__

_ERROR = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_AUTH_ERRORS = {
    "401": {**_ERROR, "description": "missing or unknown bearer token"},
    "403": {**_ERROR, "description": "the token belongs to another station"},
    "429": {**_ERROR, "description": "too many failed token attempts from this address (Retry-After)"},
}


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _param(name: str, where: str = "path", description: str = "", schema: dict | None = None) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "description": description,
            "schema": schema or {"type": "string"}}


_RECORD = {
    "type": "object",
    "required": ["uuid", "station_id", "kind", "created_at", "payload", "evidence_sha256", "prev_hash", "hash"],
    "properties": {
        "uuid": {"type": "string"}, "station_id": {"type": "string"}, "kind": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"}, "device_id": {"type": ["string", "null"]},
        "payload": {"type": "object"}, "evidence_sha256": {"type": "string"},
        "prev_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                 "description": "sha256(canonical_json(the fields above except hash)); see docs/records.md"},
        "gap": {"type": "object", "properties": {"reason": {"type": "string"}},
                "description": "a gap notice: the station could not deliver this record (payload omitted)"},
    },
}


def openapi_document() -> dict[str, Any]:
    bearer = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "bench register", "version": __version__,
                 "description": "Central register for bench stations: hash-chained records, devices, "
                                "asset tags, certificates and station keys."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "per-station token (`bench register token create`)"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}, "hint": {"type": "string"}}},
                "Record": _RECORD,
                "Result": {"type": "object", "properties": {
                    "uuid": {"type": "string"},
                    "status": {"enum": ["stored", "already_stored", "rejected", "gap_recorded"]},
                    "reason": {"type": "string"}}},
            },
        },
        "paths": {
            "/v1/records": {
                "post": {
                    "summary": "Send a batch of a station's records, in chain order",
                    "security": bearer,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["records"],
                        "properties": {"records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}}}}}}},
                    "responses": {
                        "200": _json({"type": "object", "properties": {
                            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
                            "last_hash": {"type": "string"}}}, "one result per record, in order"),
                        "400": {**_ERROR, "description": "body is not a JSON object with a records list"},
                        "413": {**_ERROR, "description": "body or batch larger than the limit"},
                        **_AUTH_ERRORS,
                    },
                },
                "get": {
                    "summary": "A station's records after a cursor",
                    "security": bearer,
                    "parameters": [_param("station", "query", "station id (default: the token's station)"),
                                   _param("since", "query", "register_id of the last record seen, or an ISO time"),
                                   _param("limit", "query", "at most this many (1..5000)", {"type": "integer"})],
                    "responses": {"200": _json({"type": "object", "properties": {
                        "records": {"type": "array", "items": {"$ref": "#/components/schemas/Record"}},
                        "next": {"type": ["integer", "null"]}}}), **_AUTH_ERRORS},
                },
            },
            "/v1/devices/{device_id}": {"get": {
                "summary": "A device by device id or asset tag: tags, facts, records, certificates",
                "security": bearer, "parameters": [_param("device_id", description="device id or asset tag")],
                "responses": {"200": _json({"type": "object"}), "404": _ERROR, **_AUTH_ERRORS}}},
            "/v1/certificates/{uuid}": {"get": {
                "summary": "What a certificate's QR code points to (HTML for browsers, else JSON)",
                "parameters": [_param("uuid", description="certificate uuid (or its record's uuid)"),
                               _param("format", "query", "html or json")],
                "responses": {"200": {"description": "the certificate record and what the register holds",
                                      "content": {"application/json": {"schema": {"type": "object"}},
                                                  "text/html": {"schema": {"type": "string"}}}},
                              "404": _ERROR}}},
            "/v1/stations/{station_id}/chain": {"get": {
                "summary": "The last hash of the station's chain the register acknowledged",
                "security": bearer,
                "parameters": [_param("station_id"), _param("verify", "query", "1: walk and check the whole chain")],
                "responses": {"200": _json({"type": "object", "properties": {
                    "last_hash": {"type": "string"}, "records": {"type": "integer"}, "gaps": {"type": "integer"}}}),
                    **_AUTH_ERRORS}}},
            "/v1/stations/{station_id}/key": {
                "get": {"summary": "The station's Ed25519 public key (for certificate verification)",
                        "parameters": [_param("station_id")],
                        "responses": {"200": _json({"type": "object"}), "404": _ERROR}},
                "put": {"summary": "Register the station's Ed25519 public key (PEM body)",
                        "security": bearer, "parameters": [_param("station_id")],
                        "requestBody": {"required": True, "content": {"application/x-pem-file": {"schema": {
                            "type": "string"}}}},
                        "responses": {"200": _json({"type": "object"}, "unchanged"),
                                      "201": _json({"type": "object"}, "stored"),
                                      "400": {**_ERROR, "description": "not an Ed25519 PEM public key"},
                                      **_AUTH_ERRORS}},
            },
            "/v1/health": {"get": {"summary": "Liveness", "responses": {"200": _json({"type": "object"})}}},
            "/openapi.json": {"get": {"summary": "This description", "responses": {"200": _json({"type": "object"})}}},
        },
    }
