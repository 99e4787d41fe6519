"""`RegisterPages` over the register's domain functions: one transaction per call, the register's
`Actor` behind each `WebActor`, and the one permission check (`auth.can`). No SQL here: every
read and write is a domain call the JSON API makes too."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bench.register import auth
from bench.register.domain import audit, batch_lists, device_search, impact, lookup, people, sampling, trust
from bench.register.domain import batches as batchmod
from bench.register.domain import dashboard as dashmod
from bench.register.domain.certificate_check import public_check
from bench.register.domain.common import DomainError
from bench.register.service import Register
from bench.register.web.ports import BATCHES_PER_PAGE, Refused, WebActor

# The pages' actions, as the register's permission table names them.
PAGE_ACTIONS = {
    "dashboard.view": "dashboard.read",
    "device.view": "device.search",
    "batch.view": "batch.read",
    "batch.upload_manifest": "manifest.upload",
    "donor.view": "impact.read",
    "audit.view": "audit.read",
    "audit.sample": "sample.create",
    "regional.view": "regional.snapshot",
    "allocation.view": "allocation.read",
}


def _web(actor: auth.Actor) -> WebActor:
    return WebActor(
        user_id=str(actor.user_id),
        name=str(actor.username),
        role=str(actor.role),
        org_id=str(actor.org_id),
        donor_id=str(actor.donor_id) if actor.donor_id is not None else None,
        partner_id=str(actor.partner_id) if actor.partner_id is not None else None,
    )


def _actor(w: WebActor) -> auth.Actor:
    return auth.Actor(
        "user",
        org_id=w.org_id,
        user_id=int(w.user_id),
        username=w.name,
        role=w.role,
        donor_id=int(w.donor_id) if w.donor_id else None,
        partner_id=int(w.partner_id) if w.partner_id else None,
    )


def _int(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise Refused(404, f"No {what} with that id.")
    return int(text)


class DomainBackend:
    def __init__(self, register: Register) -> None:
        self.register = register

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One transaction; the domain's refusals become page refusals (not found stays not found)."""
        try:
            with self.register.transaction() as db:
                return fn(db, *args, **kwargs)
        except auth.Denied as exc:
            raise Refused(403, "Your role may not see this.") from exc
        except DomainError as exc:
            raise Refused(exc.status, exc.message) from exc

    # -- sessions ---------------------------------------------------------------------------
    def sign_in(self, username: str, password: str) -> tuple[WebActor, str] | None:
        with self.register.transaction() as db:
            token = people.login(db, username, password)
            actor = people.actor_for_token(db, token) if token else None
        return (_web(actor), token) if token and actor else None

    def actor_for_session(self, token: str) -> WebActor | None:
        if not token.startswith(auth.SESSION_TOKEN_PREFIX):
            return None  # an API token is not a browser session
        with self.register.transaction() as db:
            actor = people.actor_for_token(db, token)
        return _web(actor) if actor and actor.kind == "user" else None

    def sign_out(self, token: str) -> None:
        with self.register.transaction() as db:
            people.logout(db, token)

    def can(self, actor: WebActor | None, action: str, resource: Any = None) -> bool:
        if actor is None:
            return False
        real = _actor(actor)
        # "may this actor do it to anything of theirs": the domain call then checks the real resource
        scope = auth.Resource(org_id=real.org_id, donor_id=real.donor_id, partner_id=real.partner_id)
        return auth.can(real, PAGE_ACTIONS.get(action, action), scope)

    # -- pages ------------------------------------------------------------------------------
    def dashboard(self, actor: WebActor, today: dt.date) -> dict[str, Any]:
        return self._call(dashmod.dashboard, _actor(actor), today)  # type: ignore[no-any-return]

    def find_devices(self, actor: WebActor, query: str, limit: int = 50) -> list[dict[str, Any]]:
        found = self._call(device_search.find_devices, _actor(actor), query, limit)
        for d in found:
            d.pop("_records", None)
        return found  # type: ignore[no-any-return]

    def device(self, actor: WebActor, ident: str) -> dict[str, Any] | None:
        try:
            return self._call(device_search.device_page, _actor(actor), ident)  # type: ignore[no-any-return]
        except Refused as exc:
            if exc.status in (403, 404):
                return None  # another donor's device looks exactly like no device
            raise

    def batches(self, actor: WebActor, page: int = 1) -> list[dict[str, Any]]:
        def run(db: Any, a: auth.Actor) -> list[dict[str, Any]]:
            out = []
            newest = list(reversed(batchmod.list_batches(db, a)))
            shown = newest[(page - 1) * BATCHES_PER_PAGE : page * BATCHES_PER_PAGE]
            recs = batchmod.reconciliations(db, a, [b["id"] for b in shown])
            for b in shown:
                rec = recs[b["id"]]
                out.append(
                    {
                        "batch_id": str(b["id"]),
                        "reference": b["reference"],
                        "donor_name": b["donor"],
                        "received_at": b["received_at"],
                        "expected": rec["expected"],
                        "received": rec["received"],
                        "wiped": rec["wiped"],
                        "failed": rec["failed"],
                        "missing": len(rec["missing"]),
                        "unexpected": len(rec["unexpected"]),
                    }
                )
            return out

        return self._call(run, _actor(actor))  # type: ignore[no-any-return]

    def batch(self, actor: WebActor, batch_id: str) -> dict[str, Any] | None:
        if not batch_id.isdigit():
            return None
        try:
            return self._call(batch_lists.batch_lists, _actor(actor), int(batch_id))  # type: ignore[no-any-return]
        except Refused as exc:
            if exc.status in (403, 404):
                return None
            raise

    def upload_manifest(self, actor: WebActor, batch_id: str, filename: str, content: bytes) -> dict[str, Any]:
        done = self._call(batchmod.upload_manifest, _actor(actor), _int(batch_id, "batch"), content, filename)
        return {"expected": done["rows"]}

    def batch_certificates(self, actor: WebActor, batch_id: str) -> list[dict[str, Any]]:
        return self._call(batch_lists.batch_certificates, _actor(actor), _int(batch_id, "batch"))  # type: ignore[no-any-return]

    def donors(self, actor: WebActor) -> list[dict[str, Any]]:
        return self._call(impact.donors_overview, _actor(actor))  # type: ignore[no-any-return]

    def donor_impact(self, actor: WebActor, donor_id: str) -> dict[str, Any] | None:
        if not donor_id.isdigit():
            return None
        try:
            return self._call(impact.donor_impact, _actor(actor), int(donor_id))  # type: ignore[no-any-return]
        except Refused as exc:
            if exc.status in (403, 404):
                return None
            raise

    def allocations(self, actor: WebActor) -> list[dict[str, Any]]:
        return self._call(batchmod.list_allocations, _actor(actor))  # type: ignore[no-any-return]

    def chains(self, actor: WebActor) -> list[dict[str, Any]]:
        return self._call(audit.chain_summaries, _actor(actor))  # type: ignore[no-any-return]

    def verify_chain(self, actor: WebActor, station_id: str) -> dict[str, Any] | None:
        try:
            return self._call(audit.verify_station, _actor(actor), station_id)  # type: ignore[no-any-return]
        except Refused as exc:
            if exc.status == 404:
                return None
            raise

    def keys(self, actor: WebActor) -> list[dict[str, Any]]:
        def run(db: Any, a: auth.Actor) -> list[dict[str, Any]]:
            auth.require(a, "audit.read", auth.Resource(org_id=a.org_id))
            out = []
            for s in people.list_stations(db, a):
                for k in trust.station_keys(db, s["station_id"]):
                    row = trust.key_out(k)
                    out.append(
                        {
                            "station_id": s["station_id"],
                            "fingerprint": row["fingerprint"],
                            "state": _key_state(row),
                            "since": row.get("created_at"),
                            "approved_by": row.get("decided_by"),
                            "approved_at": row.get("decided_at"),
                            "valid_from": row.get("valid_from"),
                            "valid_until": row.get("valid_until"),
                        }
                    )
            return out

        return self._call(run, _actor(actor))  # type: ignore[no-any-return]

    def draw_sample(self, actor: WebActor, percent: float, since: str, until: str) -> dict[str, Any]:
        return self._call(sampling.draw, _actor(actor), percent, since, until)  # type: ignore[no-any-return]

    def samples(self, actor: WebActor) -> list[dict[str, Any]]:
        return self._call(sampling.samples, _actor(actor))  # type: ignore[no-any-return]

    def sample(self, actor: WebActor, sample_id: str) -> dict[str, Any] | None:
        try:
            return self._call(sampling.report, _actor(actor), sample_id)  # type: ignore[no-any-return]
        except Refused as exc:
            if exc.status == 404:
                return None
            raise

    def record_recheck(
        self, actor: WebActor, sample_id: str, wipe_uuid: str, method: str, outcome: str, notes: str
    ) -> None:
        self._call(sampling.record_recheck, _actor(actor), sample_id, wipe_uuid, method, outcome, notes)

    def regional(self, actor: WebActor, since: dt.date, until: dt.date) -> dict[str, Any]:
        return self._call(impact.regional_snapshot, _actor(actor), since, until)  # type: ignore[no-any-return]

    def check_certificate(self, uuid: str) -> dict[str, Any] | None:
        try:
            found = self._call(lookup.certificate, uuid)
        except Refused as exc:
            if exc.status == 404:
                return None
            raise
        return public_check(found)


def _key_state(row: dict[str, Any]) -> str:
    status = str(row.get("status") or "")
    if status == "active":
        return "retired" if row.get("valid_until") else "current"
    return {"pending": "pending", "refused": "rejected"}.get(status, status)
