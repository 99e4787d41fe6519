"""Check a signed certificate (JSON file or PDF with the JSON attached) and say exactly what is wrong.

Checks, in order: the file parses; the envelope is complete; the fingerprint matches the embedded
key; the key is the pinned one (if given); the Ed25519 signature over the canonical JSON; every
embedded record's hash; the certificate's fields re-derived from those records; and, when the
local store is at hand, that the store holds the same records (and evidence) under the same hashes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.canonical import canonical_json, sha256_hex
from bench.certs import certificate as certmod
from bench.certs import trust as trustmod
from bench.certs.sign import ENVELOPE_FORMAT, fingerprint, load_public_key, verify_signature
from bench.errors import CertificateError
from bench.store.records import record_hash


@dataclass
class Report:
    """The outcome for one certificate (a batch PDF gives one per attachment)."""

    source: str
    certificate_uuid: str = ""
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    key_fingerprint: str = ""
    trust: str = ""  # the trust anchor used: pinned, local trust store, this station's own key, register, none
    trusted: bool | None = None  # None: no trust policy was applied (content checks only)

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def read_documents(path: Path) -> list[tuple[str, bytes]]:
    """(name, JSON bytes) of every signed certificate in a .json file or attached to a PDF."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read {path}: {exc.strerror}") from exc
    if data.startswith(b"%PDF"):
        docs = pdf_attachments(data)
        if not docs:
            raise CertificateError(
                f"{path} is a PDF with no certificate attached",
                hint="only PDFs made by `bench certs export` carry the signed JSON",
            )
        return docs
    return [(path.name, data)]


def pdf_attachments(data: bytes) -> list[tuple[str, bytes]]:
    """Embedded files named *.json from a PDF (pdfminer: pure Python, handles compressed streams)."""
    import io

    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    try:
        doc = PDFDocument(PDFParser(io.BytesIO(data)))
        names = resolve1(resolve1(doc.catalog.get("Names") or {}).get("EmbeddedFiles") or {})
    except Exception as exc:  # pdfminer raises many unrelated types on broken files
        raise CertificateError(f"the PDF cannot be parsed: {exc}") from exc
    out: list[tuple[str, bytes]] = []

    def walk(node: Any) -> None:
        node = resolve1(node)
        pairs = resolve1(node.get("Names") or [])
        for i in range(0, len(pairs) - 1, 2):
            name = resolve1(pairs[i])
            name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
            spec = resolve1(pairs[i + 1])
            stream = resolve1(resolve1(spec.get("EF") or {}).get("F"))
            if stream is not None and name.endswith(".json"):
                out.append((name, stream.get_data()))
        for kid in resolve1(node.get("Kids") or []):
            walk(kid)

    if names:
        walk(names)
    return out


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as 'path: certificate says X, records say Y' lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a:
                out.append(f"{sub}: missing from the certificate")
            elif k not in b:
                out.append(f"{sub}: in the certificate but not derivable from its records")
            else:
                out += _diff(a[k], b[k], sub)
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{path}[{i}]")]
    if a != b or type(a) is not type(b):
        return [f"{path}: certificate says {_short(a)}, its records say {_short(b)}"]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _json_error(raw: bytes, exc: json.JSONDecodeError) -> str:
    return (
        f"not valid JSON at line {exc.lineno} column {exc.colno} (byte {exc.pos}): {exc.msg}; "
        f"bytes there: {raw[max(exc.pos - 12, 0) : exc.pos + 12]!r}"
    )


def verify_bytes(
    raw: bytes,
    source: str,
    *,
    pinned_pem: str | None = None,
    store: Any = None,
    station_pem: str | None = None,
    policy: trustmod.Policy | None = None,
) -> Report:
    """Content checks always; with a `policy` (what `bench certs verify` applies) the signing key
    must also be trusted through an anchor, or the report fails (unless it allows untrusted)."""
    rep = Report(source=source)
    try:
        env = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        rep.fail(f"not UTF-8 at byte {exc.start}")
        return rep
    except json.JSONDecodeError as exc:
        rep.fail(_json_error(raw, exc))
        return rep
    if not isinstance(env, dict) or env.get("format") != ENVELOPE_FORMAT:
        rep.fail(f"not a bench signed certificate (format should be {ENVELOPE_FORMAT!r})")
        return rep
    cert, sig = env.get("certificate"), env.get("signature")
    if not isinstance(cert, dict) or not isinstance(sig, dict):
        rep.fail("the file lacks its 'certificate' or 'signature' section")
        return rep
    rep.certificate_uuid = str(cert.get("certificate_uuid", ""))
    pem = str(sig.get("public_key", ""))
    try:
        load_public_key(pem)
        fp = fingerprint(pem)
    except CertificateError:
        rep.fail("signature.public_key is not a readable Ed25519 public key (damaged or replaced)")
        return rep
    rep.key_fingerprint = fp
    if sig.get("key_fingerprint_sha256") != fp:
        rep.fail(
            f"signature.key_fingerprint_sha256 {str(sig.get('key_fingerprint_sha256'))[:16]}… is not the "
            f"fingerprint of the embedded public key ({fp[:16]}…)"
        )
    if pinned_pem:
        pinned_fp = fingerprint(pinned_pem)
        if pinned_fp != fp:
            rep.fail(f"signed with key {fp[:16]}…, not the pinned key {pinned_fp[:16]}… given with --public-key")
            rep.trusted = False
        else:
            rep.trust, rep.trusted = "pinned", True
    elif policy is not None:
        _apply_policy(rep, policy, cert, fp)
    elif station_pem and fingerprint(station_pem) == fp:
        rep.trust = "this station"
    else:
        rep.trust = "embedded only"
        rep.warnings.append(
            f"key {fp[:16]}… is only the one embedded in the file: anyone can make a "
            "self-consistent file; pin the station's key with --public-key or check the "
            "fingerprint with the register"
        )
    if verify_signature(pem, canonical_json(cert), str(sig.get("value", ""))):
        rep.checks.append(f"Ed25519 signature valid (key {fp[:16]}…)")
    else:
        rep.fail("bad signature: the certificate's content (or the signature) changed after signing")
    _check_content(cert, rep, store)
    return rep


def _apply_policy(rep: Report, policy: trustmod.Policy, cert: dict[str, Any], fp: str) -> None:
    decision = policy.decide(str(cert.get("station_id", "")), fp, str(cert.get("issued_at", "")))
    rep.trust, rep.trusted = decision.anchor, decision.trusted
    if decision.trusted:
        rep.checks.append(f"signing key trusted: {decision.anchor}")
    elif policy.allow_untrusted:
        rep.trust = "none (--allow-untrusted)"
        rep.warnings.append(f"UNTRUSTED signing key, accepted only because of --allow-untrusted: {decision.reason}")
    else:
        rep.fail(f"untrusted signing key: {decision.reason}")
    if policy.register_url:
        _check_register_copy(rep, policy, cert)


def _check_register_copy(rep: Report, policy: trustmod.Policy, cert: dict[str, Any]) -> None:
    """The register's copy of the records behind the certificate: root on the bench can rewrite
    the station's history and sign it with the real key, but not what the register already holds."""
    try:
        answer = trustmod.fetch_register_certificate(
            policy.register_url, str(cert.get("certificate_uuid", "")), policy.register_timeout, policy.verify_tls
        )
    except CertificateError as exc:
        rep.warnings.append(f"the register's copy was not compared: {exc.message}")
        return
    if answer is None:
        rep.warnings.append("the register has not received this certificate yet: its records were not compared")
        return
    problems = trustmod.register_copy_problems(answer, cert.get("records") or [])
    for p in problems:
        rep.fail(p)
    if not problems:
        rep.checks.append("the register holds the certificate's records with the same hashes")


def _check_content(cert: dict[str, Any], rep: Report, store: Any) -> None:
    from bench.certs import machine

    if cert.get("schema") == machine.SCHEMA:
        _check_machine(cert, rep, store)
        return
    if cert.get("schema") != certmod.SCHEMA:
        rep.fail(f"schema is {cert.get('schema')!r}, this bench reads {certmod.SCHEMA!r}")
        return
    records = cert.get("records")
    if not isinstance(records, list) or not records:
        rep.fail("records: the certificate embeds no records")
        return
    good = True
    for i, r in enumerate(records):
        fields = {
            k: r.get(k)
            for k in (
                "uuid",
                "station_id",
                "kind",
                "created_at",
                "device_id",
                "payload",
                "evidence_sha256",
                "prev_hash",
            )
        }
        if record_hash(fields) != r.get("hash"):
            good = False
            rep.fail(
                f"records[{i}] ({r.get('kind')} {r.get('uuid')}): its content does not match its hash "
                f"{str(r.get('hash'))[:16]}…"
            )
    if good:
        rep.checks.append(f"{len(records)} embedded record hashes match")
    evidence: dict[str, Any] | None = None
    local_records: list[dict[str, Any]] | None = None
    if store is not None:
        evidence, local_records = {}, []
        for i, r in enumerate(records):
            local = store.get(str(r.get("uuid")))
            if local is None:
                rep.warnings.append(f"records[{i}] {r.get('uuid')} is not in the local store (another station?)")
                evidence, local_records = None, None
                continue
            if local_records is not None:
                local_records.append(certmod.record_dict(local))
            if local.hash != r.get("hash"):
                rep.fail(
                    f"records[{i}] ({r.get('kind')} {r.get('uuid')}): the local store has hash "
                    f"{local.hash[:16]}…, the certificate claims {str(r.get('hash'))[:16]}…"
                )
            if evidence is not None:
                ev = store.evidence(local.uuid)
                if sha256_hex(canonical_json(ev if ev is not None else [])) != local.evidence_sha256:
                    rep.fail(f"records[{i}] evidence in the local store does not match its hash")
                evidence[local.uuid] = ev
        if evidence is not None and not any("the local store has hash" in p for p in rep.problems):
            rep.checks.append("the local store holds the same records")
    try:
        # With the store at hand its records are the truth to derive from; else the embedded ones.
        derived = certmod.derive(local_records if local_records else records, evidence)
    except (CertificateError, KeyError, TypeError, AttributeError, ValueError) as exc:
        rep.fail(f"the certificate's records cannot be read back: {exc}")
        return
    claimed = {k: v for k, v in cert.items() if k not in certmod.ISSUANCE_KEYS}
    if evidence is None:
        claimed["sanitisation"] = {
            k: v for k, v in (claimed.get("sanitisation") or {}).items() if k not in certmod.EVIDENCE_KEYS
        }
    diffs = _diff(claimed, derived)
    for d in diffs[:20]:
        rep.fail(d)
    if not diffs:
        rep.checks.append(
            "every field re-derived from the records matches"
            + (" (commands from the store's evidence too)" if evidence is not None else "")
        )
    if cert.get("result") not in certmod.RESULTS:
        rep.fail(f"result {cert.get('result')!r} is not one of {', '.join(certmod.RESULTS)}")


def _check_machine(cert: dict[str, Any], rep: Report, store: Any) -> None:
    """A machine certificate: every embedded record's hash, the store's copies, the fields re-derived."""
    from bench.certs import machine

    records = cert.get("records")
    if not isinstance(records, list) or not records:
        rep.fail("records: the certificate embeds no records")
        return
    bad = [r for r in records if record_hash({k: r.get(k) for k in _HASHED}) != r.get("hash")]
    for r in bad:
        rep.fail(f"{r.get('kind')} {r.get('uuid')}: its content does not match its hash {str(r.get('hash'))[:16]}…")
    if not bad:
        rep.checks.append(f"{len(records)} embedded record hashes match")
    if store is not None:
        differ = [
            r for r in records if (local := store.get(str(r.get("uuid")))) is not None and local.hash != r.get("hash")
        ]
        for r in differ:
            rep.fail(f"{r.get('kind')} {r.get('uuid')}: the local store holds another hash")
    problems = machine.check_content(cert, records)
    for p in problems[:20]:
        rep.fail(p)
    if not problems:
        rep.checks.append("every field re-derived from the records matches")


_HASHED = ("uuid", "station_id", "kind", "created_at", "device_id", "payload", "evidence_sha256", "prev_hash")


def verify_file(
    path: Path | str,
    *,
    pinned_pem: str | None = None,
    store: Any = None,
    station_pem: str | None = None,
    policy: trustmod.Policy | None = None,
) -> list[Report]:
    path = Path(path)
    return [
        verify_bytes(
            raw,
            f"{path.name}:{name}" if name != path.name else path.name,
            pinned_pem=pinned_pem,
            store=store,
            station_pem=station_pem,
            policy=policy,
        )
        for name, raw in read_documents(path)
    ]
