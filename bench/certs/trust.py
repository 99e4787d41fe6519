"""Whose keys may sign certificates.

A certificate is trusted only through an anchor outside the file itself:
  * a key pinned on the command line (`--public-key`);
  * the local trust store (`bench certs trust add STATION KEYFILE`), a 0600 JSON file under
    data_dir/keys; this station's own key counts for its own certificates;
  * the register: the key is (or was) registered to the certificate's station there, and it was
    that station's key at the signing time (registered keys are valid until the station's next
    key was registered; the first one also covers what was signed before it was registered,
    since a station signs offline before it can register its key).
The key embedded in the file proves only that the file is self-consistent: anyone can make one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.certs.sign import fingerprint, load_public_key
from bench.config import Config
from bench.errors import CertificateError
from bench.store.records import utc_now

TRUST_FILE = "trusted_keys.json"


@dataclass(frozen=True)
class TrustedKey:
    station_id: str
    fingerprint: str
    public_key_pem: str
    added_at: str


@dataclass(frozen=True)
class Decision:
    trusted: bool
    anchor: str  # what vouched for the key, or "none"
    reason: str = ""  # why not, when not


# -- the local trust store --------------------------------------------------------------------
def trust_path(config: Config) -> Path:
    return config.data_path / "keys" / TRUST_FILE


def load(config: Config) -> list[TrustedKey]:
    path = trust_path(config)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise CertificateError(
            f"the local trust store {path} cannot be read: {exc}", hint="restore it, or remove it and add keys again"
        ) from exc
    keys = doc.get("keys") if isinstance(doc, dict) else None
    if not isinstance(keys, list):
        raise CertificateError(f"the local trust store {path} has no 'keys' list")
    return [TrustedKey(**{k: str(e.get(k, "")) for k in TrustedKey.__dataclass_fields__}) for e in keys]


def _save(config: Config, keys: list[TrustedKey]) -> None:
    path = trust_path(config)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"keys": [asdict(k) for k in keys]}, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise CertificateError(f"cannot write the local trust store {path}: {exc.strerror}") from exc


def read_key_file(path: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise CertificateError(f"cannot read the key file {path}: {exc.strerror}") from exc
    start = text.find("-----BEGIN PUBLIC KEY-----")
    end = text.find("-----END PUBLIC KEY-----")
    if start < 0 or end < start:
        raise CertificateError(
            f"{path} holds no PEM public key", hint="`bench certs key` on that station prints its public key"
        )
    pem = text[start : end + len("-----END PUBLIC KEY-----")] + "\n"
    load_public_key(pem)  # an Ed25519 key, or a clear error
    return pem


def add(config: Config, station_id: str, pem: str) -> TrustedKey:
    fp = fingerprint(pem)
    keys = [k for k in load(config) if not (k.station_id == station_id and k.fingerprint == fp)]
    entry = TrustedKey(station_id, fp, pem, utc_now())
    _save(config, [*keys, entry])
    return entry


def remove(config: Config, station_id: str, fingerprint_prefix: str = "") -> int:
    keys = load(config)
    keep = [
        k for k in keys if not (k.station_id == station_id and k.fingerprint.startswith(fingerprint_prefix.lower()))
    ]
    if len(keep) != len(keys):
        _save(config, keep)
    return len(keys) - len(keep)


# -- decisions ----------------------------------------------------------------------------------
def local_decision(
    keys: list[TrustedKey], station_id: str, fp: str, own: tuple[str, str] | None = None
) -> Decision | None:
    """The local anchor for (station, key), if there is one. `own` = (this station's id, its key's fingerprint)."""
    for k in keys:
        if k.station_id == station_id and k.fingerprint == fp:
            return Decision(True, f"local trust store ({station_id}, key added {k.added_at[:19]})")
    if own is not None and own == (station_id, fp):
        return Decision(True, f"this station's own key ({station_id})")
    return None


def _time(value: Any) -> datetime | None:
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def register_decision(
    answer: dict[str, Any] | None, register: str, station_id: str, fp: str, signed_at: str
) -> Decision:
    """Decide from the register's `GET /v1/stations/{station}/key` answer (None = 404: no key)."""
    where = f"register {register}"
    if answer is None:
        return Decision(False, "none", f"{where} has no key registered for station {station_id}")
    history = [{"fingerprint": answer.get("fingerprint"), "since": answer.get("since")}]
    history += [p for p in answer.get("previous") or [] if isinstance(p, dict)]
    history.reverse()  # oldest first
    signed = _time(signed_at)
    if signed is None:
        return Decision(False, "none", f"the certificate's issued_at {signed_at!r} is not a time")
    known = False
    for i, entry in enumerate(history):
        if entry.get("fingerprint") != fp:
            continue
        known = True
        start = _time(entry.get("since")) if i > 0 else None
        end = _time(history[i + 1].get("since")) if i + 1 < len(history) else None
        if (start is None or start <= signed) and (end is None or signed < end):
            state = "its current key" if end is None else f"its key until {str(history[i + 1].get('since'))[:19]}"
            return Decision(True, f"{where}: key {fp[:16]}… is {state} for station {station_id}")
    if known:
        return Decision(
            False,
            "none",
            f"{where}: key {fp[:16]}… was station {station_id}'s key, but not at the signing time {signed_at}",
        )
    return Decision(False, "none", f"{where}: key {fp[:16]}… was never registered to station {station_id}")


# -- the policy `bench certs verify` applies --------------------------------------------------
@dataclass
class Policy:
    """The anchors at hand: local keys, this station's own key, and a way to ask the register."""

    local: list[TrustedKey]
    own: tuple[str, str] | None = None
    register_url: str = ""
    register_timeout: float = 10.0
    verify_tls: bool = True
    allow_untrusted: bool = False
    _answers: dict[str, dict[str, Any] | None] = field(default_factory=dict, repr=False)

    def decide(self, station_id: str, fp: str, signed_at: str) -> Decision:
        found = local_decision(self.local, station_id, fp, self.own)
        if found is not None:
            return found
        if not self.register_url:
            return Decision(
                False,
                "none",
                f"key {fp[:16]}… is not in the local trust store for station {station_id} and no register is "
                "configured to ask",
            )
        if station_id not in self._answers:  # one question per station (a batch PDF holds many)
            try:
                self._answers[station_id] = fetch_register_key(
                    self.register_url, station_id, self.register_timeout, self.verify_tls
                )
            except CertificateError as exc:
                return Decision(False, "none", f"{exc.message}; the key is not in the local trust store either")
        answer = self._answers[station_id]
        return register_decision(answer, self.register_url, station_id, fp, signed_at)


def fetch_register_certificate(url: str, certificate_uuid: str, timeout: float, verify_tls: bool = True) -> Any:
    """The register's view of a certificate (`GET /v1/certificates/{uuid}`): None when it has not
    received it yet; raises CertificateError when it cannot be asked."""
    import httpx

    try:
        resp = httpx.get(
            f"{url.rstrip('/')}/v1/certificates/{certificate_uuid}",
            timeout=timeout,
            verify=verify_tls,
            headers={"Accept": "application/json"},
        )
    except httpx.HTTPError as exc:
        raise CertificateError(f"the register {url} could not be asked ({type(exc).__name__})") from exc
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise CertificateError(f"the register {url} answered HTTP {resp.status_code} for the certificate")
    try:
        return resp.json()
    except ValueError as exc:
        raise CertificateError(f"the register {url} sent an unreadable certificate answer") from exc


def register_copy_problems(answer: Any, embedded: list[Any]) -> list[str]:
    """Embedded records that the register holds with another hash (the station's history was
    rewritten after the register stored it)."""
    covers = answer.get("covers") if isinstance(answer, dict) else None
    if not isinstance(covers, list):
        return []
    held = {c.get("uuid"): c for c in covers if isinstance(c, dict)}
    out = []
    for i, rec in enumerate(embedded):
        if not isinstance(rec, dict):
            continue
        cover = held.get(rec.get("uuid"))
        if cover is None:
            continue
        if cover.get("register") == "hash differs" or cover.get("hash") != rec.get("hash"):
            out.append(
                f"records[{i}] ({rec.get('kind')} {rec.get('uuid')}): the register holds this record with another "
                "hash: the station's records were changed after the register stored them"
            )
    return out


def fetch_register_key(url: str, station_id: str, timeout: float, verify_tls: bool = True) -> dict[str, Any] | None:
    """The register's key history for a station (None when it has none)."""
    import httpx

    endpoint = f"{url.rstrip('/')}/v1/stations/{station_id}/key"
    try:
        resp = httpx.get(endpoint, timeout=timeout, verify=verify_tls, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise CertificateError(f"the register {url} could not be asked ({type(exc).__name__})") from exc
    if resp.status_code == 404:
        return None
    if resp.status_code != 200:
        raise CertificateError(f"the register {url} answered HTTP {resp.status_code} for station {station_id}'s key")
    try:
        doc = resp.json()
    except ValueError as exc:
        raise CertificateError(f"the register {url} sent an unreadable key answer") from exc
    if not isinstance(doc, dict):
        raise CertificateError(f"the register {url} sent an unreadable key answer")
    return doc


def policy_for(config: Config | None, own_pem: str | None, *, allow_untrusted: bool, online: bool = True) -> Policy:
    if config is None:
        return Policy([], allow_untrusted=allow_untrusted)
    own = (config.station_id, fingerprint(own_pem)) if own_pem else None
    return Policy(
        load(config),
        own,
        register_url=config.register_url if online else "",
        register_timeout=config.sync.timeout_seconds,
        verify_tls=config.sync.verify_tls,
        allow_untrusted=allow_untrusted,
    )
