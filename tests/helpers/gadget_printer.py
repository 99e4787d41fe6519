"""The printer end of a USB gadget in the rig guest: reads what the bench sent to the gadget's
character device (/dev/g_printer0 for usb_f_printer, /dev/ttyGS0 for usb_f_acm), writes the
label bytes to a file and answers ESC/POS real-time status queries (DLE EOT n) like an Epson.

    python -m tests.helpers.gadget_printer /dev/g_printer0 /tmp/received.bin [--stall-after N]

`--stall-after N` stops reading after N label bytes (a printer that jams mid-label: the bench's
writes back up until it gives up or the printer is pulled). Runs until it is killed; while the gadget is unplugged it waits, like a printer left switched on.
"""

from __future__ import annotations

import argparse
import os
import sys
import termios
import time
import tty

from tests.helpers.fake_printer import DLE_EOT, PrinterState, answer_queries


def only_queries(chunk: bytes) -> bool:
    """A read that holds nothing but status queries (bench sends each on its own and waits)."""
    return bool(chunk) and len(chunk) % 3 == 0 and all(chunk[i : i + 2] == DLE_EOT for i in range(0, len(chunk), 3))


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data) :]
        except BlockingIOError:
            time.sleep(0.01)


def serve(node: str, out: str, stall_after: int | None = None) -> int:
    # Non-blocking reads, polled: the printer gadget queues its OUT requests only when read() is
    # called, so a read blocked across a USB reset (python-escpos resets the device on every
    # open) would wait forever on requests the reset took away. ENODEV: the cable is out; a
    # printer stays switched on and waits for it.
    fd = os.open(node, os.O_RDWR | os.O_NOCTTY)
    if os.isatty(fd):
        # A serial gadget (ttyGS) reads blocking in raw mode: polling lets the line discipline's
        # buffer fill between reads.
        tty.setraw(fd, termios.TCSANOW)
    else:
        os.set_blocking(fd, False)
    state = PrinterState()
    written = 0
    with open(out, "ab", buffering=0) as sink:
        while True:
            if stall_after is not None and written >= stall_after:
                time.sleep(3600)
            try:
                chunk = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                time.sleep(0.01)
                continue
            except OSError as exc:
                print(f"gadget_printer: {node}: {exc.strerror}", file=sys.stderr, flush=True)
                time.sleep(0.2)
                continue
            if not chunk:
                time.sleep(0.01)
                continue
            if only_queries(chunk):
                _write_all(fd, answer_queries(chunk, state))
                continue
            reply = answer_queries(chunk, state)
            label = chunk[: len(chunk) - 3 * len(reply)] if reply else chunk
            if stall_after is not None:
                label = label[: max(0, stall_after - written)]
            sink.write(label)
            written += len(label)
            if reply:
                _write_all(fd, reply)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("node")
    p.add_argument("out")
    p.add_argument("--stall-after", type=int)
    a = p.parse_args()
    return serve(a.node, a.out, a.stall_after)


if __name__ == "__main__":
    raise SystemExit(main())
