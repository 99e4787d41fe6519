import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench.station import open_station


def bench(*args: str, config: Path, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench.cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_CONFIG": str(config)},
        check=check,
    )


def test_version_and_help(config_file: Path) -> None:
    assert bench("--version", config=config_file).stdout.startswith("bench ")
    out = bench("--help", config=config_file).stdout
    for command in ("devices", "wipe", "health", "label", "sync", "certs", "register", "records", "db"):
        assert command in out


def test_unknown_command_is_a_clear_error(config_file: Path) -> None:
    r = bench("frobnicate", config=config_file, check=False)
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr


def test_bad_config_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("allow_loop = 'maybe'\n")
    r = bench("records", config=cfg, check=False)
    assert r.returncode == 1 and "must be a boolean" in r.stderr and "Traceback" not in r.stderr


def test_records_and_db_verify(config_file: Path) -> None:
    with open_station(config_file) as st:
        recs = [st.store.append("note", {"n": i}) for i in range(3)]
        db_path = st.config.db_path
    lines = bench("records", "--json", config=config_file).stdout.splitlines()
    assert [json.loads(x)["uuid"] for x in lines] == [r.uuid for r in reversed(recs)]
    assert json.loads(lines[0])["sync_state"] == "queued"
    assert "ok: 3 records" in bench("db", "verify", config=config_file).stdout
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER records_no_update")
    conn.execute("UPDATE records SET payload = '{\"n\":7}' WHERE uuid = ?", (recs[1].uuid,))
    conn.commit()
    conn.close()
    r = bench("db", "verify", config=config_file, check=False)
    assert r.returncode == 1 and recs[1].uuid in r.stdout and "BROKEN" in r.stdout
