"""Replay captured tool outputs through bench.tools.runner, so the state machines are
tested against what real tools print (including their lies) without running them."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass
class Reply:
    stdout: str | bytes = ""
    stderr: str | bytes = ""
    rc: int = 0
    timed_out: bool = False


@dataclass
class ReplayExecutor:
    """Rules are (argv glob pattern, Reply or callable(argv) -> Reply); the first match answers,
    and a rule given as a list answers its replies in turn (the last one repeats).
    An argv no rule matches fails the test: no real program runs by accident."""

    rules: list[tuple[str, object]] = field(default_factory=list)
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def add(self, pattern: str, reply: object) -> ReplayExecutor:
        self.rules.append((pattern, list(reply) if isinstance(reply, (list, tuple)) else reply))
        return self

    def __call__(
        self, argv: Sequence[str], timeout: float, input: bytes | None, env: Mapping[str, str]
    ) -> tuple[int, bytes, bytes, bool]:
        joined = " ".join(argv)
        self.calls.append(tuple(argv))
        for pattern, reply in self.rules:
            if fnmatch.fnmatchcase(joined, pattern):
                r = reply
                if isinstance(reply, list):
                    r = reply.pop(0) if len(reply) > 1 else reply[0]
                if callable(r) and not isinstance(r, Reply):
                    r = r(tuple(argv))
                out = r.stdout.encode() if isinstance(r.stdout, str) else r.stdout
                err = r.stderr.encode() if isinstance(r.stderr, str) else r.stderr
                return r.rc, out, err, r.timed_out
        raise AssertionError(f"unexpected command in a replay test: {joined}")


def forbid_all(
    argv: Sequence[str], timeout: float, input: bytes | None, env: Mapping[str, str]
) -> tuple[int, bytes, bytes, bool]:
    raise AssertionError(f"unit tests must not run real programs: {' '.join(argv)}")
