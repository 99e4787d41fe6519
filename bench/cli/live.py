"""`bench live build [--output PATH]`: build (or reuse) the boot stick image (`make live`).
`bench live run`: the first-boot session inside the image (wipes every internal drive: only
ever started by the image's own systemd unit)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    build = sub.add_parser("build", help="build the stick image from Debian packages and this checkout")
    build.add_argument("--repo", default=".", help="the bench checkout to package (default: .)")
    build.add_argument("--output", default="build/bench-live.img", help="where the image goes")
    build.add_argument("--data-mib", type=int, default=128, help="size of the data partition (MiB, at least 96)")
    run = sub.add_parser("run", help="(inside the live image) inventory, wipe and record this computer")
    run.add_argument("--data", default="/run/bench-data", help="where the stick's data partition is mounted")
    run.add_argument(
        "--i-am-the-live-image",
        action="store_true",
        help="required unless the kernel command line says bench.live.data=… (refuses on a bench PC)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.action == "build":
        from bench.live.build import build

        result = build(Path(args.repo), Path(args.output), data_mib=args.data_mib)
        how = "reused the cached image" if result.cached else "built"
        print(
            f"{how}: {result.image} ({result.size_bytes / 1e6:.0f} MB) in {result.seconds:.1f} s; "
            f"key {result.key}; write it to a stick with: dd if={result.image} of=/dev/sdX bs=4M conv=fsync"
        )
        return 0
    from bench.live.session import run_session

    return run_session(Path(args.data), force=args.i_am_the_live_image)
