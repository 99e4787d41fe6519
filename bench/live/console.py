"""The live console on tty1: questions that give up after a timeout (auto mode), progress
lines, and the large PASSED / FAILED screen a technician reads from across the room."""

from __future__ import annotations

import contextlib
import os
import select
import sys
from collections.abc import Iterable
from typing import TextIO

GRADES = ("A", "B", "C", "D")

# A 5-row block font for the few words the result screen shows.
_FONT = {
    "P": ["████ ", "█   █", "████ ", "█    ", "█    "],
    "A": [" ███ ", "█   █", "█████", "█   █", "█   █"],
    "S": [" ████", "█    ", " ███ ", "    █", "████ "],
    "E": ["█████", "█    ", "████ ", "█    ", "█████"],
    "D": ["████ ", "█   █", "█   █", "█   █", "████ "],
    "F": ["█████", "█    ", "████ ", "█    ", "█    "],
    "I": ["█████", "  █  ", "  █  ", "  █  ", "█████"],
    "L": ["█    ", "█    ", "█    ", "█    ", "█████"],
    "N": ["█   █", "██  █", "█ █ █", "█  ██", "█   █"],
    "O": [" ███ ", "█   █", "█   █", "█   █", " ███ "],
    "T": ["█████", "  █  ", "  █  ", "  █  ", "  █  "],
    "H": ["█   █", "█   █", "█████", "█   █", "█   █"],
    "G": [" ████", "█    ", "█  ██", "█   █", " ████"],
    "W": ["█   █", "█   █", "█ █ █", "██ ██", "█   █"],
    " ": ["   ", "   ", "   ", "   ", "   "],
}


def banner(word: str) -> list[str]:
    """`word` in the block font (letters it lacks are left out)."""
    rows = ["", "", "", "", ""]
    for ch in word.upper():
        glyph = _FONT.get(ch)
        if glyph is None:
            continue
        for i in range(5):
            rows[i] += glyph[i] + "  "
    return [r.rstrip() for r in rows]


class Console:
    def __init__(self, out: TextIO | None = None, inp: TextIO | None = None, serial_log: str = "") -> None:
        self.out = out or sys.stdout
        self.inp = inp or sys.stdin
        self._serial = None
        if serial_log:
            try:
                fd = os.open(serial_log, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
                self._serial = os.fdopen(fd, "w", buffering=1)
            except OSError:
                self._serial = None

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)
        self.log(text)

    def log(self, text: str) -> None:
        """A line for a serial console or test harness only (never blocks)."""
        if self._serial is not None:
            with contextlib.suppress(OSError):
                self._serial.write(text + "\r\n")

    def ask(self, question: str, timeout: float) -> str:
        """A line typed by the technician, or '' when nobody answers within `timeout` seconds."""
        if timeout <= 0:
            return ""
        print(f"{question} [{int(timeout)} s, Enter to skip]: ", end="", file=self.out, flush=True)
        self.log(f"asking: {question}")
        try:
            ready, _, _ = select.select([self.inp], [], [], timeout)
        except (OSError, ValueError):
            ready = []
        if not ready:
            print("(skipped)", file=self.out, flush=True)
            return ""
        line = self.inp.readline()
        return line.strip()

    def ask_grade(self, timeout: float) -> str:
        while True:
            answer = self.ask("Cosmetic grade A (like new) / B / C / D (poor)", timeout).upper()
            if answer in ("", *GRADES):
                return answer
            self.say(f"  '{answer}' is not a grade: type A, B, C or D")

    def wait_key(self, timeout: float) -> None:
        """Until Enter is pressed (or `timeout` seconds, when > 0)."""
        try:
            ready, _, _ = select.select([self.inp], [], [], timeout if timeout > 0 else None)
            if ready:
                self.inp.readline()
        except (OSError, ValueError):
            pass

    def result_screen(
        self, passed: bool, asset_tag: str, lines: Iterable[str], next_steps: Iterable[str], computer: str = ""
    ) -> None:
        self.out.write("\033[2J\033[H")  # clear the screen
        word = "PASSED" if passed else "FAILED"
        colour = "\033[1;32m" if passed else "\033[1;31m"  # bold green / bold red on the console
        self.say("")
        for row in banner(word):
            print(f"   {colour}{row}\033[0m", file=self.out, flush=True)
            self.log("   " + row)
        self.say("")
        if computer:
            self.say(f"   Computer: {computer}")
        self.say(f"   Asset tag: {asset_tag or '(none: write the serial on the machine)'}")
        self.say("")
        for line in lines:
            self.say("   " + line)
        self.say("")
        self.say("   What to do now:")
        for step in next_steps:
            self.say("    - " + step)
        self.say("")
        self.say("   Press Enter to power off.")
        self.log(f"@@LIVE-RESULT {word}@@")
