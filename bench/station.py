"""The headless core's front door: a configured station with its store.
The CLI, the TUI and the tests all start here (`open_station`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import config as configmod
from bench.config import Config
from bench.errors import ConfigError
from bench.store import Store
from bench.store.signing import RecordSigner


@dataclass
class Station:
    config: Config
    _store: Store | None = field(default=None, repr=False)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.config.db_path, self.config.station_id, signer=self.record_signer())
        return self._store

    def record_signer(self) -> RecordSigner:
        """The station key (created on first use) as the store signs records with it."""
        from bench.certs.sign import load_or_create_key

        return RecordSigner(load_or_create_key(self.config))

    @property
    def data_dir(self) -> Path:
        return self.config.data_path

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Station:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_station(config_path: str | os.PathLike[str] | None = None, *, config: Config | None = None) -> Station:
    """Load (or create) the config and make sure the data dir exists."""
    cfg = config if config is not None else configmod.load(config_path)
    try:
        cfg.data_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create data_dir {cfg.data_dir}: {exc.strerror}",
            hint=f"fix data_dir in {cfg.path or 'the config'} or run as root",
        ) from exc
    return Station(cfg)
