"""Entry point: `bench` (the TUI) and `bench COMMAND ...`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from bench import __version__

#: command -> (module, one-line help). Modules are imported only when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "tui": ("bench.cli.tui", "start the bench screen (the default)"),
    "devices": ("bench.cli.devices", "list drives and phones, or --watch them come and go"),
    "wipe": ("bench.cli.wipe", "wipe and verify devices with a profile (or --plan to preview)"),
    "bays": ("bench.cli.bays", "name the drive bays (learn them by plugging a drive into each) and list them"),
    "health": ("bench.cli.health", "read SMART health and grade a drive"),
    "phone": ("bench.cli.phone", "phone facts, checks and the assisted reset workflow"),
    "label": ("bench.cli.label", "print or preview asset labels"),
    "records": ("bench.cli.records", "list records in the local store"),
    "db": ("bench.cli.db", "check the local record store (verify)"),
    "sync": ("bench.cli.sync", "send records to the central register"),
    "host": ("bench.cli.host", "the donated computer or phone: link drives, show, grade"),
    "batch": ("bench.cli.batch", "donor batches: import a manifest (CSV/XLSX), reconcile its status"),
    "asset": ("bench.cli.asset", "an asset's timeline and custody events"),
    "certs": ("bench.cli.certs", "export and verify signed wipe certificates"),
    "register": ("bench.cli.register", "run the central register service and manage its tokens"),
    "doctor": ("bench.cli.doctor", "check this bench PC: tools, permissions, printer, register, disks"),
    "install": ("bench.cli.install", "install bench on this PC: packages, units, udev rules, config"),
    "live": ("bench.cli.live", "build the boot stick that wipes a whole computer (`live build`)"),
    "import": ("bench.cli.importcmd", "import a live stick's records (its data partition, device or image)"),
}


def _top_parser() -> argparse.ArgumentParser:
    lines = "\n".join(f"  {name:<10} {text}" for name, (_, text) in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog="bench",
        description="Wipe, verify, grade, label and certify donated devices.",
        epilog=f"commands:\n{lines}\n\nRun `bench COMMAND --help` for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(parser)
    parser.add_argument("--version", action="version", version=f"bench {__version__}")
    parser.add_argument("command", nargs="?", default="tui", help=argparse.SUPPRESS)
    return parser


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=os.environ.get("BENCH_CONFIG"),
        help="config file (default: $BENCH_CONFIG or /etc/bench/config.toml)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Find the command: the first word that is not an option (or an option's value).
    command, rest, pre = "tui", [], []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--config" and i + 1 < len(argv):
            pre += argv[i : i + 2]
            i += 2
            continue
        if word.startswith("--config="):
            pre.append(word)
            i += 1
            continue
        if not word.startswith("-"):
            command, rest = word, argv[i + 1 :]
            break
        pre.append(word)
        i += 1
    if command not in COMMANDS or (command == "tui" and pre and pre[0] in ("-h", "--help", "--version")):
        if command not in COMMANDS:
            _top_parser().parse_args(pre)  # prints --help/--version and exits
            print(f"bench: unknown command '{command}'. Commands: {', '.join(COMMANDS)}", file=sys.stderr)
            return 2
        _top_parser().parse_args(pre)
    module_name, text = COMMANDS[command]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"bench {command}", description=text)
    add_common(parser)
    module.add_arguments(parser)
    args = parser.parse_args(pre + rest)
    if command == "tui":  # the TUI draws with escape sequences of its own; its widgets clean their text
        return _run(module, args)
    from bench.cli.output import terminal_safe_output

    with terminal_safe_output():
        return _run(module, args)


def _run(module: ModuleType, args: argparse.Namespace) -> int:
    from bench.errors import BenchError

    try:
        return int(module.run(args) or 0)
    except BenchError as exc:
        print(f"bench: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
