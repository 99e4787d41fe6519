"""Request and response models. Records are validated for shape here and checked for chain and
trust by the domain; payloads are free-form objects (bounded in depth by the JSON reader)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr


class WireRecord(BaseModel):
    """A record as a bench sends it: the hashed fields and the hash (or a gap notice)."""

    model_config = ConfigDict(extra="ignore")
    uuid: StrictStr = Field(min_length=1, max_length=200)
    station_id: StrictStr = Field(min_length=1, max_length=200)
    kind: StrictStr = Field(min_length=1, max_length=200)
    created_at: StrictStr = Field(min_length=1, max_length=100)
    device_id: StrictStr | None = Field(default=None, max_length=500)
    payload: dict[str, Any] | None = None
    evidence_sha256: StrictStr = Field(max_length=200)
    prev_hash: StrictStr = Field(max_length=200)
    hash: StrictStr = Field(max_length=200)
    gap: dict[str, Any] | None = None


class RecordBatch(BaseModel):
    records: list[WireRecord] = Field(max_length=5000)


class RecordAnswer(BaseModel):
    uuid: str
    status: str = Field(description="stored | already_stored | gap_recorded | rejected")
    reason: str | None = None


class IngestAnswer(BaseModel):
    results: list[RecordAnswer]
    last_hash: str


class KeyBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    public_key_pem: StrictStr | None = Field(default=None, max_length=4000)
    public_key: StrictStr | None = Field(default=None, max_length=4000)


class KeyAnswer(BaseModel):
    station_id: str
    fingerprint: str
    status: str = Field(description="active (the station's key) | pending (waits for an admin) | refused")
    changed: bool


class ChainOut(BaseModel):
    station_id: str
    last_hash: str
    records: int
    gaps: int
    last_received_at: str | None


class LoginBody(BaseModel):
    username: StrictStr = Field(max_length=64)
    password: StrictStr = Field(max_length=1000)


class TokenBody(BaseModel):
    label: StrictStr = Field(default="", max_length=200)


class SiteBody(BaseModel):
    name: StrictStr = Field(min_length=1, max_length=200)
    address: StrictStr = Field(default="", max_length=1000)


class UserBody(BaseModel):
    username: StrictStr = Field(max_length=64)
    password: StrictStr = Field(max_length=1000)
    role: StrictStr
    donor: StrictStr | None = None
    partner: StrictStr | None = None


class EnrolBody(BaseModel):
    station_id: StrictStr = Field(min_length=1, max_length=64)
    asset_prefix: StrictStr = Field(default="", max_length=8)
    name: StrictStr = Field(default="", max_length=200)


class NamedBody(BaseModel):
    name: StrictStr = Field(min_length=1, max_length=200)
    contact: StrictStr = Field(default="", max_length=500)


class BatchBody(BaseModel):
    donor_id: int
    reference: StrictStr = Field(min_length=1, max_length=128)
    received_at: StrictStr = Field(default="", max_length=100)


class AllocationBody(BaseModel):
    partner_id: int
    device: StrictStr = Field(min_length=1, max_length=500, description="device id or asset tag")


class Problem(BaseModel):
    error: str
    hint: str | None = None
