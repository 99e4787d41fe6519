from pathlib import Path

import pytest

from bench import config as configmod
from bench.errors import ConfigError


def test_first_run_creates_safe_defaults(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "config.toml"
    cfg = configmod.load(path)
    assert path.exists()
    assert cfg.offline and cfg.printer == "preview" and cfg.allow_loop is False
    assert cfg.station_id and cfg.station_id == configmod.load(path).station_id  # stable across loads


def test_station_id_is_stable_per_machine() -> None:
    assert configmod.default_station_id() == configmod.default_station_id()


def test_round_trip(tmp_path: Path) -> None:
    cfg = configmod.Config(station_id="s1", operator="Ann", protected=["WD-123", "0x5000c500"], allow_loop=True)
    cfg.wipe.max_parallel = 4
    path = tmp_path / "c.toml"
    path.write_text(configmod.dumps(cfg))
    back = configmod.load(path)
    assert back.protected == ["WD-123", "0x5000c500"] and back.wipe.max_parallel == 4 and back.allow_loop


@pytest.mark.parametrize(
    "text, needle",
    [
        ("bogus = 1\n", "unknown key 'bogus'"),
        ("[wipe]\nspeed = 3\n", "unknown key 'wipe.speed'"),
        ("allow_loop = 'yes'\n", "'allow_loop' must be a boolean"),
        ("protected = 'WD-1'\n", "'protected' must be a list of string"),
        ("protected = [1, 2]\n", "'protected' must be a list of string"),
        ("[wipe]\nmax_parallel = true\n", "'wipe.max_parallel' must be a integer"),
        ("wipe = 3\n", "'wipe' must be a table"),
        ("station_id = \n", "not valid TOML"),
    ],
)
def test_errors_name_file_key_and_type(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        configmod.load(path)
    assert needle in str(err.value) and str(path) in str(err.value)


def test_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_CONFIG", str(tmp_path / "x.toml"))
    assert configmod.config_path() == tmp_path / "x.toml"
    assert configmod.config_path(tmp_path / "y.toml") == tmp_path / "y.toml"
