"""Issue 15 item 6: every config value is checked on load, with a message naming the key;
the first-run config is 0600; the supervisor PIN is a salted scrypt hash, the old sha256 form
works once and is replaced in the file."""

from __future__ import annotations

import hashlib
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bench import config as configmod
from bench.errors import CertificateError, ConfigError

BAD_VALUES = [
    ("[wipe]\nmax_parallel = 0\n", "wipe.max_parallel"),
    ("[wipe]\nmax_parallel = -1\n", "wipe.max_parallel"),
    ("[wipe]\nmax_parallel = 100000\n", "wipe.max_parallel"),
    ("[wipe]\nbuffer_mib = 0\n", "wipe.buffer_mib"),
    ("[wipe]\ndefault_profile = ''\n", "wipe.default_profile"),
    ("[wipe]\ndefault_profile = '../../etc/passwd'\n", "wipe.default_profile"),
    ("[sync]\nbatch_size = 0\n", "sync.batch_size"),
    ("[sync]\nbatch_size = 999999\n", "sync.batch_size"),
    ("[sync]\ninterval_seconds = 0\n", "sync.interval_seconds"),
    ("[sync]\ntimeout_seconds = -3\n", "sync.timeout_seconds"),
    ("register_url = 'http://127.0.0.1:99999'\n", "register_url"),
    ("register_url = 'ftp://register.example'\n", "register_url"),
    ("register_url = 'register.example'\n", "register_url"),
    ("register_token = 'abc def'\n", "register_token"),
    ("printer = 'tcp://127.0.0.1:0'\n", "printer"),
    ("printer = 'tcp://127.0.0.1:70000'\n", "printer"),
    ("printer = 'lpt://1'\n", "printer"),
    ("data_dir = 'relative/dir'\n", "data_dir"),
    ("data_dir = '/'\n", "data_dir"),
    ("station_id = 'bench one'\n", "station_id"),
    ('station_id = "\\u001b[2J"\n', "station_id"),
    ('operator = "Ann\\u001b]0;owned\\u0007"\n', "operator"),
    ("protected = ['']\n", "protected"),
    ("loop_scratch_dirs = ['/']\n", "loop_scratch_dirs"),
    ("loop_scratch_dirs = ['/tmp/../']\n", "loop_scratch_dirs"),
    ("loop_scratch_dirs = ['scratch']\n", "loop_scratch_dirs"),
    ("loop_scratch_dirs = ['/dev/shm']\n", "loop_scratch_dirs"),
    ("loop_scratch_dirs = ['/boot']\n", "loop_scratch_dirs"),
    ("asset_prefix = 'BEN-CH'\n", "asset_prefix"),
    ("health_thresholds = '/nonexistent/thresholds.toml'\n", "health_thresholds"),
    ("[organisation]\nname = ''\n", "organisation.name"),
    ("[organisation]\nlogo = 'logo.png'\n", "organisation.logo"),
    ("[label]\ntemplate = ''\n", "label.template"),
    ("[label]\nprinter_profile = 'a b'\n", "label.printer_profile"),
    ("[supervisor]\npin_sha256 = 'not-hex'\n", "supervisor.pin_sha256"),
    ("[supervisor]\npin_hash = 'sha256$abc'\n", "supervisor.pin_hash"),
    (
        "[supervisor]\npin_hash = 'scrypt$n=2,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA=='\n",
        "supervisor.pin_hash",
    ),
]


@pytest.mark.parametrize("text, key", BAD_VALUES)
def test_every_bad_value_is_refused_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        configmod.load(path)
    assert f"'{key}'" in str(err.value) and str(path) in str(err.value) and "must be" in str(err.value)


def test_every_key_has_a_rule() -> None:
    keys = {k for k, _ in configmod._values(configmod.Config())}
    assert keys == set(configmod.RULES)


def test_defaults_and_a_full_config_pass(tmp_path: Path) -> None:
    cfg = configmod.Config(
        station_id="bench-sheffield-1", data_dir=str(tmp_path), register_url="https://r.example:8443/x"
    )
    cfg.printer = "tcp://127.0.0.1:9100"
    path = tmp_path / "c.toml"
    path.write_text(configmod.dumps(cfg))
    assert configmod.load(path).register_url == "https://r.example:8443/x"


def test_cli_says_which_key_and_never_hangs(tmp_path: Path) -> None:
    """`wipe.max_parallel = 0` used to hang `bench wipe` after writing wipe.started; `-1` printed a traceback."""
    for value in ("0", "-1"):
        path = tmp_path / f"c{value}.toml"
        path.write_text(
            f'station_id = "s-1"\ndata_dir = "{tmp_path / "d"}"\nallow_loop = true\n[wipe]\nmax_parallel = {value}\n'
        )
        proc = subprocess.run(
            [sys.executable, "-m", "bench.cli.main", "--config", str(path), "wipe", "/dev/loop-none", "--yes"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 1, proc.stderr
        assert "'wipe.max_parallel'" in proc.stderr and "Traceback" not in proc.stderr


def test_sync_batch_size_zero_is_refused_not_silently_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        f'station_id = "s-1"\ndata_dir = "{tmp_path / "d"}"\nregister_url = "http://127.0.0.1:9"\n[sync]\nbatch_size = 0\n'
    )
    proc = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "--config", str(path), "sync", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and "'sync.batch_size'" in proc.stderr


def test_first_run_config_is_0600(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "config.toml"
    configmod.load(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _config_with_old_pin(tmp_path: Path, pin: str) -> Path:
    cfg = configmod.Config(station_id="s-1", data_dir=str(tmp_path / "d"))
    cfg.supervisor.name = "Sam"
    cfg.supervisor.pin_sha256 = hashlib.sha256(pin.encode()).hexdigest()
    path = tmp_path / "c.toml"
    path.write_text("# station 1, set up by hand\n" + configmod.dumps(cfg))
    return path


def test_pin_is_salted_scrypt_with_its_parameters() -> None:
    from bench import pin as pinmod

    a, b = pinmod.hash_pin("2468"), pinmod.hash_pin("2468")
    assert a != b and a.startswith("scrypt$n=16384,r=8,p=1$")
    assert pinmod.matches(a, "2468") and not pinmod.matches(a, "2469")


def test_old_sha256_pin_is_accepted_once_and_upgraded_in_the_file(tmp_path: Path) -> None:
    from bench import pin as pinmod
    from bench.certs import export

    path = _config_with_old_pin(tmp_path, "2468")
    cfg = configmod.load(path)
    with pytest.raises(CertificateError):
        export.check_pin(cfg, "1111")
    assert 'pin_sha256 = "' in path.read_text() and hashlib.sha256(b"2468").hexdigest() in path.read_text()
    export.check_pin(cfg, "2468")
    text = path.read_text()
    assert hashlib.sha256(b"2468").hexdigest() not in text and 'pin_hash = "scrypt$' in text
    assert text.startswith("# station 1, set up by hand\n")  # the rest of the file is kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = configmod.load(path)
    assert again.supervisor.pin_sha256 == "" and pinmod.matches(again.supervisor.pin_hash, "2468")
    export.check_pin(again, "2468")
    with pytest.raises(CertificateError):
        export.check_pin(again, "1111")


def test_pin_hash_command_prints_a_loadable_line(tmp_path: Path) -> None:
    from bench import pin as pinmod

    proc = subprocess.run(
        [sys.executable, "-m", "bench.cli.main", "certs", "pin-hash", "--pin", "97531"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    path = tmp_path / "c.toml"
    path.write_text(f'station_id = "s-1"\ndata_dir = "{tmp_path}"\n[supervisor]\n{line}\n')
    assert pinmod.check(configmod.load(path), "97531")
