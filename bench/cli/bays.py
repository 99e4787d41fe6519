"""`bench bays [list]`: the configured bays and what sits in each now;
`bench bays learn --count N` (or `--names "Bay 1,Bay 2"`): plug a drive into each bay in turn and
write the `[bays]` table (by-path name -> bay name) into the config file."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "learn"), default="list")
    parser.add_argument("--count", type=int, default=0, help="learn: number of bays, named 'Bay 1'..'Bay N'")
    parser.add_argument("--names", default="", help="learn: comma-separated bay names, in the order to plug")
    parser.add_argument("--timeout", type=float, default=300.0, help="learn: seconds to wait for each drive")


def run(args: argparse.Namespace) -> int:
    import sys

    from bench import bays
    from bench import config as configmod
    from bench.errors import ConfigError
    from bench.model import clean_text

    cfg = configmod.load(args.config)
    if args.action == "list":
        now = bays.present()
        if not cfg.bays:
            print("no bays configured: run `bench bays learn --count N`")
        for path, name in cfg.bays.items():
            print(f"{clean_text(name, 40):<16} {clean_text(path, 80):<48} {now.get(path, 'empty')}")
        return 0
    names = [n.strip() for n in args.names.split(",") if n.strip()] or [f"Bay {i}" for i in range(1, args.count + 1)]
    if not names:
        raise ConfigError("bench bays learn needs --count N or --names", hint="e.g. bench bays learn --count 8")
    print(
        f"Learning {len(names)} bays. Start with the bays EMPTY (or leave the drives in that are there: "
        "only a drive that appears counts).",
        file=sys.stderr,
    )

    def ask(prompt: str) -> str:
        print(prompt, end="", file=sys.stderr, flush=True)
        try:
            return input()
        except EOFError:
            return "stop"

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    learned = bays.learn(names, ask=ask, say=say, timeout=args.timeout)
    if not learned:
        print("no bay learned; the config is unchanged", file=sys.stderr)
        return 1
    merged = {p: n for p, n in cfg.bays.items() if n not in learned.values() and p not in learned}
    merged.update(learned)
    cfg.bays = merged
    file = configmod.config_path(args.config)
    try:
        file.write_text(configmod.dumps(cfg))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot write the config: {exc.strerror}", hint="run as root") from exc
    print(f"wrote {len(learned)} bay(s) to [bays] in {file}")
    for p, n in learned.items():
        print(f"  {clean_text(n, 40):<16} {clean_text(p, 80)}")
    return 0
