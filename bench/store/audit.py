"""What `bench db verify` checks in the store itself, beyond the hash chain (Store.verify):

* signatures: every record from the first signed one on carries a valid signature by a key in
  `signing_keys` (records written before signing began are counted, not failed);
* acknowledged tips: every tip the register acknowledged (`acked_tips`, kept by the sync
  client) is still in the chain, at the same place, with the same hash.

Each problem names the record (seq, uuid, kind, time) and what is wrong with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.store.records import Store
from bench.store.signing import load_public, signature_valid


@dataclass
class AuditReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    signed: int = 0
    unsigned_before_signing: int = 0
    tips_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _name(row: dict[str, object]) -> str:
    return f"record #{row['seq']} {row['uuid']} ({row['kind']}, {row['created_at']})"


def check_signatures(store: Store, report: AuditReport, limit: int = 20) -> None:
    keys = {r["fingerprint"]: load_public(r["public_key_pem"]) for r in store.query("SELECT * FROM signing_keys")}
    rows = store.query(
        "SELECT r.seq, r.uuid, r.kind, r.created_at, r.station_id, r.hash, s.key_fingerprint, s.signature "
        "FROM records r LEFT JOIN record_signatures s ON s.uuid = r.uuid ORDER BY r.seq"
    )
    seen_signed = False
    bad = 0
    for row in rows:
        if row["signature"] is None:
            if not seen_signed:
                report.unsigned_before_signing += 1
                continue
            problem = "has no signature, though the records before it are signed (inserted, or written without the key)"
        else:
            seen_signed = True
            if row["key_fingerprint"] not in keys:
                problem = f"is signed by key {str(row['key_fingerprint'])[:16]}…, which is not in signing_keys"
            elif not signature_valid(keys[row["key_fingerprint"]], row["station_id"], row["hash"], row["signature"]):
                problem = "has a signature that does not verify: the record (or its hash) changed after it was signed"
            else:
                report.signed += 1
                continue
        bad += 1
        if bad <= limit:
            report.problems.append(f"{_name(dict(row))} {problem}")
    if bad > limit:
        report.problems.append(f"... and {bad - limit} more records with signature problems")
    if report.unsigned_before_signing:
        report.notes.append(f"{report.unsigned_before_signing} records from before record signing are not signed")


def check_acked_tips(store: Store, report: AuditReport) -> None:
    tips = store.query("SELECT * FROM acked_tips ORDER BY record_seq, id")
    for tip in tips:
        report.tips_checked += 1
        rows = store.query(
            "SELECT seq, uuid, kind, created_at, hash FROM records WHERE uuid = ?", (tip["record_uuid"],)
        )
        when = f"acknowledged by the register {tip['register_url']} at {tip['acked_at']}"
        if not rows:
            at = store.query("SELECT seq, uuid, kind, created_at FROM records WHERE seq = ?", (tip["record_seq"],))
            instead = f"; #{tip['record_seq']} is now {at[0]['uuid']} ({at[0]['kind']})" if at else ""
            report.problems.append(
                f"record #{tip['record_seq']} {tip['record_uuid']} ({when}) is missing from the store{instead}"
            )
        elif rows[0]["hash"] != tip["hash"]:
            report.problems.append(
                f"{_name(dict(rows[0]))} has hash {rows[0]['hash'][:16]}…, but the register acknowledged "
                f"{tip['hash'][:16]}… ({when}): it or a record before it was changed"
            )
        elif rows[0]["seq"] != tip["record_seq"]:
            report.problems.append(
                f"{_name(dict(rows[0]))} moved: the register acknowledged it as #{tip['record_seq']}"
            )
    if tips:
        last = tips[-1]
        newest = store.query("SELECT MAX(seq) AS n FROM records")[0]["n"] or 0
        if newest < last["record_seq"]:
            report.problems.append(
                f"the store ends at record #{newest}, before #{last['record_seq']} the register acknowledged: "
                "records were deleted"
            )


def audit(store: Store) -> AuditReport:
    report = AuditReport()
    check_signatures(store, report)
    check_acked_tips(store, report)
    return report
