"""The CLI's one output boundary: everything a command prints goes through `terminal_safe`,
so text that came from elsewhere (register answers, phone properties, tool output, records)
can never move the cursor, clear the screen or set the terminal's title."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from bench.model import terminal_safe


class TerminalSafeWriter(io.TextIOBase):
    """A text stream that cleans each write and passes it on (flush, fileno, isatty too)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8") or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)


@contextmanager
def terminal_safe_output() -> Iterator[None]:
    """For the duration: sys.stdout and sys.stderr clean what is written to them."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = TerminalSafeWriter(saved[0]), TerminalSafeWriter(saved[1])
    try:
        yield
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            sys.stdout, sys.stderr = saved
