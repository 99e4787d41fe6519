"""`bench install [--root DIR] [--no-apt] [--no-enable]`: set up this PC as a bench."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default="/", help="install into this root instead of / (a throw-away tree)")
    parser.add_argument("--no-apt", action="store_true", help="do not install Debian packages")
    parser.add_argument("--no-enable", action="store_true", help="do not enable the services")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bench.deploy.install import install

    report = install(Path(args.root), apt=not args.no_apt, enable=not args.no_enable)
    for step, detail in report.steps:
        print(f"{step:<24} {detail}")
    print("bench is installed. Start it with: systemctl start bench.service (or reboot)")
    return 0
