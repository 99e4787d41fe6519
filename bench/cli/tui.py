"""`bench` (no arguments) / `bench tui`: the bench screen."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-watch", action="store_true", help="do not follow hot-plug events")


def run(args: argparse.Namespace) -> int:
    from bench.station import open_station
    from bench.sync.prefix import check_asset_prefix
    from bench.tui.app import make_app

    with open_station(args.config) as station:
        check_asset_prefix(station)  # another station's prefix: refuse before the screen starts
        make_app(station, watch=not args.no_watch).run()
    return 0
