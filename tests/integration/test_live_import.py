"""`bench import` of a live stick's data partition, without booting anything: a stick folder made
by the live session's own functions (station, key, records, signed manifest), imported as a folder
and as a FAT image read through mtools. Importing twice adds nothing; edited, re-hashed, re-keyed
or truncated sticks are refused and leave the bench's records unchanged."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from bench.canonical import canonical_json
from bench.certs.export import register_public_key
from bench.config import Config
from bench.live import disk, stick
from bench.live.importer import ImportRefused, import_stick
from bench.live.manifest import write_manifest
from bench.station import Station, open_station
from bench.store.records import GENESIS_HASH, record_hash


def make_stick(root: Path, station_id: str = "live-unit-0001", sessions: int = 1) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / stick.LIVE_CONFIG).write_text(f'station_id = "{station_id}"\nregister_token = "tok-123"\n')
    settings = stick.load_settings(root)
    cfg = stick.station_config(root, settings)
    stick.ensure_station_key(cfg)
    with open_station(config=cfg) as st:
        register_public_key(st)
        for n in range(sessions):
            st.store.append("host.registered", {"host_id": f"d-host{n}", "serial": f"SN{n}", "source": "live"})
            st.store.append("live.session", {"host_id": f"d-host{n}", "result": "passed", "drives": []})
        write_manifest(st)
    return root


@pytest.fixture
def bench_pc(tmp_path: Path):
    cfg = Config(station_id="bench-host-1", data_dir=str(tmp_path / "bench-pc"))
    with open_station(config=cfg) as st:
        yield st


def _db(root: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(root / "bench" / "bench.db")
    conn.execute("DROP TRIGGER IF EXISTS records_no_update")
    return conn


def test_import_folder_twice_adds_nothing(tmp_path: Path, bench_pc: Station) -> None:
    root = make_stick(tmp_path / "stick")
    first = import_stick(bench_pc, root)
    assert (first.station_id, first.imported, first.already_had) == ("live-unit-0001", 3, 0)
    assert first.results == {"passed": 1} and first.hosts == ["d-host0"]
    assert [r.kind for r in bench_pc.store.records(kind="live.imported")] == ["live.imported"]
    second = import_stick(bench_pc, root)
    assert (second.imported, second.already_had, second.record_uuid) == (0, 3, "")
    assert len(bench_pc.store.records(kind="live.imported")) == 1
    mirror = sqlite3.connect(first.mirror)
    assert mirror.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 3
    assert mirror.execute("SELECT COUNT(*) FROM outbox WHERE state='queued'").fetchone()[0] == 3
    assert bench_pc.store.verify().ok


def test_a_later_session_on_the_same_stick_imports_only_the_new_records(tmp_path: Path, bench_pc: Station) -> None:
    root = make_stick(tmp_path / "stick")
    import_stick(bench_pc, root)
    cfg = stick.station_config(root, stick.load_settings(root))
    with open_station(config=cfg) as st:
        st.store.append("live.session", {"host_id": "d-host9", "result": "failed", "drives": []})
        write_manifest(st)
    again = import_stick(bench_pc, root)
    assert (again.imported, again.already_had, again.results) == (1, 3, {"failed": 1})


def test_import_from_a_fat_image_through_mtools(tmp_path: Path, bench_pc: Station) -> None:
    root = make_stick(tmp_path / "stick")
    image = tmp_path / "data.img"
    disk.make_fat(image, 16 * disk.MIB, disk.DATA_LABEL, "12345678")
    disk.fat_put(
        image,
        {
            "/bench/bench.db": root / "bench/bench.db",
            "/export/manifest.json": root / stick.MANIFEST,
            "/bench-live.toml": root / stick.LIVE_CONFIG,
        },
    )
    report = import_stick(bench_pc, image)
    assert report.imported == 3 and report.register_token == "tok-123"


def test_edited_record_is_refused(tmp_path: Path, bench_pc: Station) -> None:
    root = make_stick(tmp_path / "stick")
    conn = _db(root)
    conn.execute("UPDATE records SET payload = replace(payload, 'passed', 'failed') WHERE kind = 'live.session'")
    conn.commit()
    with pytest.raises(ImportRefused, match="edited after it was written"):
        import_stick(bench_pc, root)
    assert bench_pc.store.count() == 0 and bench_pc.store.kv_get("live.key.live-unit-0001") is None


def test_rehashed_chain_is_refused_by_the_signature(tmp_path: Path, bench_pc: Station) -> None:
    """An edit that recomputes every hash but does not re-sign the manifest is refused. (The stick's
    key is on the stick: someone who uses it can re-sign; what then still holds is the key pinned at
    the stick's first import and the register's copy, docs/reliability.md "bench live sticks".)"""
    root = make_stick(tmp_path / "stick")
    conn = _db(root)
    conn.row_factory = sqlite3.Row
    rows = conn.execute("SELECT * FROM records ORDER BY seq").fetchall()
    prev = GENESIS_HASH
    for row in rows:
        payload = json.loads(row["payload"])
        if row["kind"] == "live.session":
            payload["result"] = "failed"
        fields = {k: row[k] for k in ("uuid", "station_id", "kind", "created_at", "device_id", "evidence_sha256")}
        fields.update(payload=payload, prev_hash=prev)
        digest = record_hash(fields)
        conn.execute(
            "UPDATE records SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (canonical_json(payload).decode(), prev, digest, row["seq"]),
        )
        prev = digest
    conn.commit()
    mani = json.loads((root / stick.MANIFEST).read_text())
    mani["tip"] = prev
    (root / stick.MANIFEST).write_text(json.dumps(mani))
    with pytest.raises(ImportRefused, match="signature does not verify"):
        import_stick(bench_pc, root)


def test_removed_record_is_refused(tmp_path: Path, bench_pc: Station) -> None:
    root = make_stick(tmp_path / "stick")
    conn = _db(root)
    conn.execute("DROP TRIGGER IF EXISTS records_no_delete")
    conn.execute("DELETE FROM outbox WHERE uuid IN (SELECT uuid FROM records WHERE kind = 'host.registered')")
    conn.execute("DELETE FROM records WHERE kind = 'host.registered'")
    conn.commit()
    with pytest.raises(ImportRefused, match="does not link"):
        import_stick(bench_pc, root)


def test_another_stick_claiming_an_imported_station_is_refused(tmp_path: Path, bench_pc: Station) -> None:
    import_stick(bench_pc, make_stick(tmp_path / "real"))
    impostor = make_stick(tmp_path / "impostor")  # same station id, its own key
    with pytest.raises(ImportRefused, match="another key"):
        import_stick(bench_pc, impostor)


def test_not_a_stick_is_a_clear_error(tmp_path: Path, bench_pc: Station) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportRefused, match=r"no bench/bench\.db here"):
        import_stick(bench_pc, tmp_path / "empty")
    with pytest.raises(ImportRefused, match="no such file"):
        import_stick(bench_pc, tmp_path / "missing.img")


def test_cli_import_json(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = make_stick(tmp_path / "stick")
    cfg = tmp_path / "bench.toml"
    cfg.write_text(f'station_id = "bench-host-1"\ndata_dir = "{tmp_path / "pc"}"\n')
    argv = [sys.executable, "-m", "bench.cli.main", "--config", str(cfg), "import", str(root), "--json"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["imported"] == 3
    shutil.copytree(root, tmp_path / "copy")
    conn = _db(tmp_path / "copy")
    conn.execute("UPDATE records SET kind = 'x' WHERE seq = 2")
    conn.commit()
    argv[-2] = str(tmp_path / "copy")
    bad = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "refused" not in bad.stdout and "edited" in bad.stderr
