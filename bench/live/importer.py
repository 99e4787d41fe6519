"""`bench import STICK-OR-PATH`: take a live stick's records onto this bench PC.

The source is a mounted data partition (a directory), the stick's block device, or an image
file (a whole stick image or just its data partition); devices and images are only read
(mtools copies the files out; nothing is mounted or written). The records are checked (chain,
signature, pinned key: see bench.live.manifest) and kept in a mirror store of the stick's station,
`data_dir/imports/<station>.db`, whose outbox the sync sends to the register with the stick's own
token. Importing the same stick twice adds nothing; a stick whose chain no longer extends what was
imported before is refused.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import tempfile
import tomllib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.canonical import sha256_hex
from bench.certs import sign
from bench.errors import BenchError
from bench.live import disk, manifest, stick
from bench.store.records import GENESIS_HASH, Record, Store, record_hash, row_to_record
from bench.tools import runner

_STATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class ImportRefused(BenchError):
    """The stick's records are not trustworthy (or not a stick): nothing was imported."""


@dataclass
class ImportReport:
    station_id: str
    records_on_stick: int
    imported: int
    already_had: int
    mirror: str
    hosts: list[str] = field(default_factory=list)
    results: dict[str, int] = field(default_factory=dict)  # live.session result -> count (new ones)
    register_token: str = ""
    record_uuid: str = ""  # the live.imported record on this station ('' when nothing was new)

    def summary(self) -> str:
        res = ", ".join(f"{n} {r}" for r, n in sorted(self.results.items())) or "no new session"
        return (
            f"station {self.station_id}: {self.imported} new record(s) imported, {self.already_had} already here "
            f"({self.records_on_stick} on the stick; {res})"
        )


# -- reading the stick ------------------------------------------------------------------------------
def _mcopy(image: str, offset: int, src: str, dest: Path, *, required: bool) -> bool:
    done = runner.run(["mcopy", "-n", "-i", f"{image}@@{offset}", f"::{src}", str(dest)], timeout=300)
    if not done.ok and required:
        raise ImportRefused(
            f"{image}: no {src} on the stick's data partition",
            hint="is this a bench live stick that has booted a computer?",
        )
    return done.ok


def _data_offset(image: Path) -> int:
    parts = disk.read_partitions(image)
    if not parts:
        return 0  # a bare data-partition image
    for part in parts:
        if part["name"] == disk.DATA_LABEL:
            return int(str(part["start_bytes"]))
    raise ImportRefused(f"{image} has no {disk.DATA_LABEL} partition", hint="is this a bench live stick?")


def fetch(source: Path, work: Path) -> Path:
    """Copy the stick's store, manifest and settings into `work`; return that folder."""
    out = work / "stick"
    (out / stick.STORE_DIR).mkdir(parents=True)
    (out / "export").mkdir()
    files = [(f"{stick.STORE_DIR}/bench.db", True), (stick.MANIFEST, True), (stick.LIVE_CONFIG, False)]
    files.append((f"{stick.STORE_DIR}/bench.db-wal", False))
    if source.is_dir():
        for name, required in files:
            if (source / name).is_file():
                shutil.copyfile(source / name, out / name)
            elif required:
                raise ImportRefused(
                    f"{source}: no {name} here",
                    hint="name the stick's data partition (BENCH-DATA), its device or image",
                )
        return out
    if not source.exists():
        raise ImportRefused(f"{source}: no such file, folder or device")
    offset = _data_offset(source)
    for name, required in files:
        _mcopy(str(source), offset, "/" + name, out / name, required=required)
    return out


def _read_chain(db: Path) -> list[tuple[Record, bytes | None]]:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        rows = conn.execute("SELECT * FROM records ORDER BY seq ASC").fetchall()
        conn.close()
    except sqlite3.Error as exc:
        raise ImportRefused(f"the stick's record store is unreadable: {exc}") from exc
    out = []
    for row in rows:
        rec = row_to_record(row)
        out.append((rec, row["evidence"]))
    return out


def verify(chain: list[tuple[Record, bytes | None]], mani: dict[str, Any]) -> int:
    """Check the chain and the signed manifest; the number of records the signature covers."""
    station_id = str(mani.get("station_id", ""))
    if mani.get("format") != manifest.FORMAT or not _STATION_RE.match(station_id):
        raise ImportRefused("the stick's export manifest is not a bench live manifest")
    prev = GENESIS_HASH
    for i, (rec, blob) in enumerate(chain, 1):
        where = f"record #{i} ({rec.kind}, {rec.uuid})"
        if rec.station_id != station_id:
            raise ImportRefused(f"{where} belongs to station {rec.station_id}, not the stick's {station_id}")
        if rec.prev_hash != prev:
            raise ImportRefused(f"{where} does not link to the record before it: records were removed or reordered")
        if record_hash(rec.hashed_fields()) != rec.hash:
            raise ImportRefused(f"{where} does not match its hash: it was edited after it was written")
        if blob is not None and sha256_hex(zlib.decompress(blob)) != rec.evidence_sha256:
            raise ImportRefused(f"{where}: its evidence does not match the evidence hash")
        prev = rec.hash
    count, tip = mani.get("count"), mani.get("tip")
    if not isinstance(count, int) or not 0 < count <= len(chain) or chain[count - 1][0].hash != tip:
        raise ImportRefused("the manifest's signed tip is not a record of this chain: the store was altered")
    keys = [r.payload.get("public_key") for r, _ in chain[:count] if r.kind == "station.key"]
    pem = str(mani.get("public_key", ""))
    if not keys or pem not in keys:
        raise ImportRefused("the manifest is signed with a key the stick's own chain does not carry")
    if not sign.verify_signature(pem, manifest.signed_fields(station_id, count, str(tip)), str(mani.get("signature"))):
        raise ImportRefused("the manifest's signature does not verify: the records were altered or re-hashed")
    return count


# -- the mirror store -----------------------------------------------------------------------------
def _insert(mirror: Store, rec: Record, blob: bytes | None) -> None:
    from bench.canonical import canonical_json

    with mirror.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO records (uuid, station_id, kind, created_at, device_id, payload, evidence, "
            "evidence_sha256, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                rec.uuid,
                rec.station_id,
                rec.kind,
                rec.created_at,
                rec.device_id,
                canonical_json(rec.payload).decode(),
                blob,
                rec.evidence_sha256,
                rec.prev_hash,
                rec.hash,
            ),
        )
        conn.execute(
            "INSERT INTO outbox (uuid, seq, state, updated_at) VALUES (?, ?, 'queued', ?)",
            (rec.uuid, cur.lastrowid, rec.created_at),
        )


def mirror_path(data_dir: Path, station_id: str) -> Path:
    return data_dir / "imports" / f"{station_id}.db"


def import_stick(station: Any, source: Path) -> ImportReport:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = fetch(source, Path(tmp))
        try:
            mani = json.loads((folder / stick.MANIFEST).read_text())
        except ValueError as exc:
            raise ImportRefused(f"the stick's manifest is not JSON: {exc}") from exc
        chain = _read_chain(folder / stick.STORE_DIR / "bench.db")
        count = verify(chain, mani)
        token = ""
        if (folder / stick.LIVE_CONFIG).is_file():
            try:
                token = str(tomllib.loads((folder / stick.LIVE_CONFIG).read_text()).get("register_token", ""))
            except tomllib.TOMLDecodeError:
                token = ""
    station_id = mani["station_id"]
    store = station.store
    pinned = store.kv_get(f"live.key.{station_id}")
    if pinned and pinned != mani["fingerprint"]:
        raise ImportRefused(
            f"station {station_id} was imported before with another key ({pinned[:16]}…): this stick is not that one",
            hint="a stick keeps its key for life; a re-imaged stick needs a new station_id in bench-live.toml",
        )
    path = mirror_path(Path(station.config.data_dir), station_id)
    mirror = Store(path, station_id, recover=False)
    try:
        have = mirror.records(newest_first=False)
        for mine, (theirs, _) in zip(have, chain, strict=False):
            if mine.hash != theirs.hash:
                raise ImportRefused(
                    f"station {station_id}: the stick's chain differs from what was imported before "
                    f"(at {theirs.uuid}): refused",
                    hint="show the stick to a supervisor; the records already imported are unchanged",
                )
        if len(have) > count:
            raise ImportRefused(f"station {station_id}: this stick has fewer signed records than were imported before")
        report = ImportReport(station_id, len(chain), 0, len(have), str(path), register_token=token)
        for rec, blob in chain[len(have) : count]:
            _insert(mirror, rec, blob)
            report.imported += 1
            if rec.kind == "host.registered":
                report.hosts.append(str(rec.payload.get("host_id", "")))
            if rec.kind == "live.session":
                result = str(rec.payload.get("result", ""))
                report.results[result] = report.results.get(result, 0) + 1
        if token:
            mirror.kv_set("register_token", token)
    finally:
        mirror.close()
    store.kv_set(f"live.key.{station_id}", mani["fingerprint"])
    if report.imported:
        rec = store.append(
            "live.imported",
            {
                "station_id": station_id,
                "records": report.imported,
                "tip": mani["tip"],
                "key_fingerprint": mani["fingerprint"],
                "source": str(source),
                "hosts": report.hosts,
                "results": report.results,
            },
        )
        report.record_uuid = rec.uuid
    return report


def sync_imports(station: Any) -> list[tuple[str, Any]]:
    """Send every imported stick's queued records to the register, each with the stick's own token."""
    import copy

    from bench.station import Station
    from bench.sync.client import sync_once

    out = []
    folder = Path(station.config.data_dir) / "imports"
    for path in sorted(folder.glob("*.db")):
        mirror = Store(path, path.stem, recover=False)
        try:
            cfg = copy.deepcopy(station.config)
            cfg.station_id = path.stem
            cfg.register_token = mirror.kv_get("register_token") or cfg.register_token
            out.append((path.stem, sync_once(Station(cfg, _store=mirror))))
        finally:
            mirror.close()
    return out
