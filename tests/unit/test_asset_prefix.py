"""Issue 15 item 8: asset tag prefixes must not collide between stations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.errors import ConfigError
from bench.store import assets
from bench.store.records import Store


def test_the_three_stations_of_the_report_get_different_prefixes() -> None:
    ids = ["bench-sheffield-1", "bench-wakefield-1", "bench-mansfield-1"]
    prefixes = [assets.asset_prefix(i) for i in ids]
    assert len(set(prefixes)) == 3, prefixes  # on main all three were BENCELD1
    assert [p[:3] for p in prefixes] == ["SHE", "WAK", "MAN"]  # still readable


def test_a_thousand_look_alike_station_ids_never_share_a_prefix() -> None:
    towns = ["leeds", "york", "hull", "bradford", "sheffield", "wakefield", "mansfield", "derby", "leicester", "bath"]
    ids = [f"bench-{t}-{n}" for t in towns for n in range(100)]
    prefixes = {assets.asset_prefix(i) for i in ids}
    assert len(prefixes) == len(ids)
    assert all(re.fullmatch(r"[A-Z0-9]{1,3}[A-Z2-7]{6}", p) for p in prefixes)
    assert assets.asset_prefix("bench-leeds-1") == assets.asset_prefix("bench-leeds-1")  # stable


def test_configured_prefix_is_kept() -> None:
    assert assets.asset_prefix("bench-leeds-1", "lds-a") == "LDSA"


def test_tags_issued_under_the_old_prefix_stay_valid(tmp_path: Path) -> None:
    with Store(tmp_path / "b.db", "bench-sheffield-1") as store:
        old, _ = assets.issue(store, "d-old", "BENCELD1")  # what main derived
        new, _ = assets.issue(store, "d-new", assets.asset_prefix("bench-sheffield-1"))
        assert old == "BENCELD1-000001" and assets.tag_for(store, "d-old") == old
        assert assets.device_for(store, old) == "d-old"
        assert new.startswith(assets.asset_prefix("bench-sheffield-1") + "-") and new.endswith("-000002")
        assert assets.issue(store, "d-old", assets.asset_prefix("bench-sheffield-1"))[0] == old


def test_no_new_tag_under_a_prefix_the_register_said_is_taken(tmp_path: Path) -> None:
    with Store(tmp_path / "b.db", "s-1") as store:
        assets.record_conflict(store, "ABC", "bench-other-1")
        with pytest.raises(ConfigError, match="already used by station bench-other-1"):
            assets.issue(store, "d-1", "ABC")
        assert assets.issue(store, "d-1", "XYZ")[0] == "XYZ-000001"  # another prefix is fine
        assets.clear_conflict(store, "ABC")
        assert assets.issue(store, "d-2", "ABC")[0] == "ABC-000002"
