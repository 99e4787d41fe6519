"""One device bank's week on a real register, built the way it happens: organisations, people and
donors made with the register's own domain calls (as `bench register org/user create` does),
manifests uploaded, and the devices' records written by real bench stations and sent by sync.

Two organisations, so the tests can show nothing crosses between them; two donors in the first,
so they can show a donor contact sees only their own batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.register import auth
from bench.register.domain import batches as batchmod
from bench.register.domain import people
from bench.register.service import open_register
from bench.sync.client import sync_once
from tests.browser.station_side import Drive, open_bench, wipe_records
from tests.helpers.register_server import RegisterProcess

PASSWORD = "correct horse battery"
ORG, OTHER_ORG = "cov", "wolv"
USERS = {
    # username: (org, role, donor, partner)
    "admin": (ORG, "admin", None, None),
    "coord": (ORG, "coordinator", None, None),
    "super": (ORG, "supervisor", None, None),
    "audit": (ORG, "auditor", None, None),
    "acme": (ORG, "donor_contact", "Acme Ltd", None),
    "nhs": (ORG, "donor_contact", "NHS Trust", None),
    "partner": (ORG, "partner", None, "Good Neighbours"),
    "wcoord": (OTHER_ORG, "coordinator", None, None),
}
ROLES = ("admin", "coordinator", "supervisor", "auditor", "donor_contact", "partner")
USER_OF_ROLE = {
    "admin": "admin",
    "coordinator": "coord",
    "supervisor": "super",
    "auditor": "audit",
    "donor_contact": "acme",
    "partner": "partner",
}

ACME_MANIFEST = (
    b"Asset Tag,Serial Number,Make,Model,Category\n"
    b"ACME-0001,SA1,WDC,WD5000LPVX,laptop\n"
    b"ACME-0002,SA2,WDC,WD5000LPVX,laptop\n"
    b"ACME-0003,SA3,WDC,WD5000LPVX,laptop\n"
    b"ACME-0004,SA4,WDC,WD5000LPVX,laptop\n"
)
ACME_DRIVES = [
    Drive("SA1", "Acme Ltd", "ACME-1"),
    Drive("SA2", "Acme Ltd", "ACME-1"),
    Drive("SA3", "Acme Ltd", "ACME-1", result="failed"),
    Drive("SX9", "Acme Ltd", "ACME-1"),  # not on the manifest: unexpected
]
NHS_DRIVES = [Drive("SN1", "NHS Trust", "NHS-1", category="desktop")]
WOLV_DRIVES = [Drive("SW1", "Wolves FC", "WOLV-1")]


@dataclass
class Scenario:
    url: str
    batches: dict[str, str] = field(default_factory=dict)  # reference -> batch id
    donors: dict[str, str] = field(default_factory=dict)  # name -> donor id
    devices: dict[str, dict[str, str]] = field(default_factory=dict)  # serial -> device_id, asset_tag, certificate
    made: dict[str, str] = field(default_factory=dict)  # what tests made on it once, to share (a sample's id)


def _admin(db: object, org: str) -> auth.Actor:
    return auth.Actor("user", org_id=org, user_id=0, username="setup", role="admin")


def build(reg: RegisterProcess, tmp: Path) -> Scenario:
    sc = Scenario(reg.url)
    with open_register(reg.db_url) as register:
        with register.transaction() as db:
            people.create_org(db, auth.SYSTEM, ORG, "Coventry Device Bank")
            people.create_org(db, auth.SYSTEM, OTHER_ORG, "Wolverhampton Reuse Hub")
        for org, donor, ref in (
            (ORG, "Acme Ltd", "ACME-1"),
            (ORG, "NHS Trust", "NHS-1"),
            (OTHER_ORG, "Wolves FC", "WOLV-1"),
        ):
            with register.transaction() as db:
                d = people.create_donor(db, _admin(db, org), donor)
                b = batchmod.create_batch(db, _admin(db, org), d["id"], ref, "2026-11-30")
                sc.donors[donor], sc.batches[ref] = str(d["id"]), str(b["id"])
        with register.transaction() as db:
            people.create_partner(db, _admin(db, ORG), "Good Neighbours")
        for username, (org, role, donor, partner) in USERS.items():
            with register.transaction() as db:
                people.create_user(
                    db, _admin(db, org), username, PASSWORD, role, org_id=org, donor=donor, partner=partner
                )
        with register.transaction() as db:
            batchmod.upload_manifest(db, _admin(db, ORG), int(sc.batches["NHS-1"]), b"Serial Number\nSN1\n", "nhs.csv")
        tokens = {org: register.create_token(f"st-{org}-1", org) for org in (ORG, OTHER_ORG)}
    for org, drives in ((ORG, ACME_DRIVES + NHS_DRIVES), (OTHER_ORG, WOLV_DRIVES)):
        with open_bench(reg.url, tokens[org], f"st-{org}-1", tmp / org) as station:
            for drive in drives:
                sc.devices[drive.serial] = wipe_records(station, drive)
            report = sync_once(station)
            assert report.rejected == 0 and report.remaining == 0, report.summary()
    return sc
