"""Printers, configured by URL, and their status.

    preview                              PNG files in <data_dir>/labels/ (no printer needed)
    file:///dev/usb/lp0                  bytes appended to a file or device node
    tcp://192.168.1.50:9100              raw TCP (python-escpos Network)
    serial:///dev/ttyUSB0?baudrate=9600  python-escpos Serial, dsrdtr=False (RTS/CTS off; most
                                         USB-serial thermal printers leave DSR unconnected)
    usb://04b8:0e15                      python-escpos Usb (pyusb + libusb); ?in_ep=0x82&out_ep=0x01

Every operation has a timeout, so a silent or unplugged printer costs seconds, never a hang.
Printer status comes from ESC/POS real-time status (DLE EOT 1/2/4) where the printer
answers; a printer that never answers is "status unknown", not an error. Foreign errors
(escpos, pyserial, socket, pyusb) become bench.errors.PrinterError with a hint.
"""

from __future__ import annotations

import os
import select
import socket
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard
from urllib.parse import parse_qs, urlsplit

from bench.errors import ConfigError, PrinterError
from bench.model import clean_text

DLE_EOT = b"\x10\x04"
DEFAULT_TIMEOUT = 3.0  # seconds for connect / each write chunk
STATUS_TIMEOUT = 0.5  # seconds to wait for a DLE EOT answer
SCHEMES = "preview, file:///PATH, tcp://HOST:9100, serial:///dev/ttyUSB0?baudrate=9600, usb://VID:PID"


@dataclass(frozen=True)
class PrinterURL:
    scheme: str  # preview | file | tcp | serial | usb
    target: str = ""  # path, host, device node or VID:PID
    port: int = 0
    options: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return format_url(self)


def format_url(u: PrinterURL) -> str:
    if u.scheme == "preview":
        return "preview"
    opts = "&".join(f"{k}={v}" for k, v in sorted(u.options.items()))
    tail = f"?{opts}" if opts else ""
    if u.scheme == "tcp":
        return f"tcp://{u.target}:{u.port}{tail}"
    if u.scheme == "usb":
        return f"usb://{u.target}{tail}"
    return f"{u.scheme}://{u.target}{tail}"


def _bad(url: str, why: str) -> ConfigError:
    return ConfigError(f"printer URL {clean_text(url, 80)!r}: {why}", hint=f"use one of: {SCHEMES}")


def parse_printer_url(url: str) -> PrinterURL:
    url = (url or "").strip()
    if url in ("", "preview", "preview:", "preview://"):
        return PrinterURL("preview")
    parts = urlsplit(url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    scheme = parts.scheme.lower()
    if scheme == "file":
        if not parts.path:
            raise _bad(url, "no path (file:///dev/usb/lp0)")
        return PrinterURL("file", parts.path, options=options)
    if scheme in ("tcp", "socket", "raw"):
        if not parts.hostname:
            raise _bad(url, "no host (tcp://192.168.1.50:9100)")
        try:
            port = parts.port or 9100
        except ValueError:
            raise _bad(url, "the port is not a number 1..65535") from None
        return PrinterURL("tcp", parts.hostname, port, options)
    if scheme == "serial":
        path = parts.path or ""
        if not path:
            raise _bad(url, "no device (serial:///dev/ttyUSB0?baudrate=9600)")
        for key in options:
            if key not in ("baudrate", "parity", "stopbits", "bytesize", "xonxoff", "rtscts"):
                raise _bad(url, f"unknown serial option {key!r}")
        if not options.get("baudrate", "9600").isdigit():
            raise _bad(url, "baudrate must be a number (9600, 19200, 38400, 115200)")
        return PrinterURL("serial", path, options=options)
    if scheme == "usb":
        ids = (parts.netloc or parts.path.lstrip("/")).lower()
        try:
            vid, pid = (int(x, 16) for x in ids.split(":"))
        except ValueError:
            raise _bad(url, "expected usb://VID:PID in hex, as `lsusb` shows it (usb://04b8:0e15)") from None
        if not (0 <= vid <= 0xFFFF and 0 <= pid <= 0xFFFF):
            raise _bad(url, "VID and PID are 4 hex digits each")
        return PrinterURL("usb", f"{vid:04x}:{pid:04x}", options=options)
    raise _bad(url, f"unknown kind {parts.scheme or url!r}")


# -- status ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrinterStatus:
    url: str
    reachable: bool  # could we open it at all
    answered: bool = False  # did it answer DLE EOT
    online: bool | None = None
    paper: str = "unknown"  # ok | low | out | unknown
    cover_open: bool | None = None
    error: bool | None = None
    detail: str = ""

    @property
    def ready(self) -> bool:
        """May a label be sent: reachable, and not reporting offline or paper out."""
        return self.reachable and self.online is not False and self.paper != "out"

    def summary(self) -> str:
        if not self.reachable:
            return f"unreachable: {self.detail}"
        if not self.answered:
            if self.url == "preview" or self.url.startswith("file:"):
                return self.detail or "writable"
            return "connected (the printer does not report status)"
        bits = ["online" if self.online else "offline", f"paper {self.paper}"]
        if self.cover_open:
            bits.append("cover open")
        if self.error:
            bits.append("error")
        return ", ".join(bits)


def _valid(b: int | None) -> TypeGuard[int]:
    """Real-time status bytes have bits 1 and 4 set and bits 0 and 7 clear."""
    return b is not None and (b & 0x93) == 0x12


def parse_status(
    url: str, printer: int | None, offline_cause: int | None = None, paper: int | None = None
) -> PrinterStatus:
    """Interpret DLE EOT answers (n=1 printer, n=2 offline cause, n=4 roll paper sensor)."""
    if not _valid(printer):
        return PrinterStatus(url, True, detail="no valid answer to DLE EOT 1")
    online = not printer & 0x08
    cover = err = None
    paper_state = "unknown"
    if _valid(offline_cause):
        cover = bool(offline_cause & 0x04)
        err = bool(offline_cause & 0x40)
        if offline_cause & 0x20:
            paper_state = "out"
    if _valid(paper):
        if paper & 0x60:
            paper_state = "out"
        elif paper & 0x0C:
            paper_state = "low"
        elif paper_state == "unknown":
            paper_state = "ok"
    return PrinterStatus(url, True, True, online, paper_state, cover, err)


# -- translation of foreign errors -------------------------------------------------------------
def _hint_for(u: PrinterURL) -> str:
    if u.scheme == "tcp":
        return (
            f"is the printer switched on and on the network at {u.target}:{u.port}? "
            "(hold FEED while switching it on to print its IP address)"
        )
    if u.scheme == "serial":
        return (
            f"is the printer cable plugged in and {u.target} present (`ls /dev/ttyUSB*`)? "
            "Is the baud rate right, and is bench allowed to open it (group dialout)?"
        )
    if u.scheme == "usb":
        return (
            "is the printer plugged in and switched on (`lsusb` lists it)? bench needs access to the USB "
            "device (run as root or add a udev rule)"
        )
    if u.scheme == "file":
        return f"does {u.target} exist and is it writable?"
    return ""


def translate(exc: BaseException, u: PrinterURL, doing: str) -> PrinterError:
    """Any escpos / serial / socket / usb / OS error as a PrinterError a technician can act on."""
    where = format_url(u)
    if isinstance(exc, PrinterError):
        return exc
    if isinstance(exc, (socket.timeout, TimeoutError)) or type(exc).__name__ == "SerialTimeoutException":
        return PrinterError(
            f"printer {where} did not respond while {doing} (timed out)",
            hint=_hint_for(u) + " The label stays queued and prints when the printer is back.",
        )
    if isinstance(exc, ConnectionRefusedError):
        return PrinterError(f"printer {where} refused the connection while {doing}", hint=_hint_for(u))
    if isinstance(exc, (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)):
        return PrinterError(
            f"printer {where} dropped the connection while {doing}",
            hint="check the cable or network; the label stays queued and is printed again",
        )
    errno = getattr(exc, "errno", None)
    if isinstance(exc, PermissionError) or errno == 13:
        return PrinterError(
            f"no permission to use printer {where}",
            hint="run bench as root, or add the bench user to the lp/dialout group",
        )
    if isinstance(exc, FileNotFoundError) or errno == 2:
        return PrinterError(
            f"printer {where} is not there ({getattr(exc, 'filename', None) or u.target})", hint=_hint_for(u)
        )
    text = clean_text(str(exc).replace("\n", " "), 200)
    if errno in (5, 19) or "Input/output error" in text or "No such device" in text:
        return PrinterError(
            f"printer {where} went away while {doing} (unplugged or switched off)",
            hint=_hint_for(u) + " The label stays queued and prints when the printer is back.",
        )
    return PrinterError(f"printer {where}: {doing} failed: {text or type(exc).__name__}", hint=_hint_for(u))


# -- printers ------------------------------------------------------------------------------------
class Printer:
    """One connection to one printer. `send` writes the bytes of a label; `query` asks
    a DLE EOT status question (None when the printer gives no valid answer in time)."""

    url: PrinterURL
    answers_status = True

    def open(self) -> None: ...

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def query(self, n: int, timeout: float = STATUS_TIMEOUT) -> int | None:
        return None

    def close(self) -> None: ...

    def status(self, timeout: float = STATUS_TIMEOUT) -> PrinterStatus:
        first = self.query(1, timeout)
        if first is None or not _valid(first):
            return PrinterStatus(str(self.url), True, detail="no status answer")
        cause = self.query(2, timeout) if first & 0x08 else None
        return parse_status(str(self.url), first, cause, self.query(4, timeout))

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class PreviewPrinter(Printer):
    """Writes PNG files instead of printing (the `preview` printer)."""

    answers_status = False

    def __init__(self, folder: Path) -> None:
        self.url = PrinterURL("preview")
        self.folder = Path(folder)

    def send(self, data: bytes) -> None:  # bytes are not used: see save()
        pass

    def save(self, lay: Any, name: str) -> Path:
        from bench.labels.preview import save_png

        return save_png(lay, self.folder / name)


class FilePrinter(Printer):
    """Appends the bytes to a file or device node (e.g. /dev/usb/lp0)."""

    answers_status = False

    def __init__(self, u: PrinterURL, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = u
        self.timeout = timeout

    def send(self, data: bytes) -> None:
        try:
            # O_NONBLOCK: a character device whose printer is jammed returns EAGAIN, not a hang.
            fd = os.open(self.url.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            raise translate(exc, self.url, "opening") from exc
        try:
            view = memoryview(data)
            deadline = time.monotonic() + self.timeout + len(data) / 10_000
            while view:
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("write blocked") from None
                    select.select([], [fd], [], 0.1)
            _drain_device(fd, deadline)
        except OSError as exc:
            raise translate(exc, self.url, "writing the label") from exc
        finally:
            os.close(fd)


def _drain_device(fd: int, deadline: float) -> None:
    """Wait until a character device has sent its last write. A non-blocking write to usblp
    returns with the last USB transfer still in flight, and close() cancels it: the end of the
    label (its feed or cut) would be lost. usblp reports POLLOUT once that transfer completed."""
    if not stat.S_ISCHR(os.fstat(fd).st_mode):
        return
    while not select.select([], [fd], [], 0.1)[1]:
        if time.monotonic() > deadline:
            raise TimeoutError("the printer did not take the end of the label")


class EscposPrinter(Printer):
    """A python-escpos device (Network, Serial or Usb) used as a byte pipe with timeouts."""

    def __init__(self, u: PrinterURL, device: Any, timeout: float) -> None:
        self.url = u
        self.dev = device
        self.timeout = timeout
        self._open = False

    def open(self) -> None:
        if self._open:
            return
        try:
            self.dev.open()
        except Exception as exc:
            self.close()
            raise translate(exc.__cause__ or exc.__context__ or exc, self.url, "connecting") from exc
        if self.dev.device is None:
            raise PrinterError(f"printer {self.url} could not be opened", hint=_hint_for(self.url))
        if self.url.scheme == "serial":
            self.dev.device.write_timeout = self.timeout
        elif self.url.scheme == "tcp":
            # Status queries are 3-byte writes right after the label: without NODELAY, Nagle holds
            # each one back until the previous data is acknowledged (~40 ms of delayed ACK).
            self.dev.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        elif self.url.scheme == "usb":
            self._usb_endpoints()
        self._open = True

    def _usb_endpoints(self) -> None:
        """Use the printer's own bulk endpoints unless the URL names them: python-escpos assumes
        OUT 0x01 / IN 0x82, which many printers (and the kernel's printer gadget: 0x02 / 0x81) do
        not have, and a write to a missing endpoint fails as "Invalid endpoint address"."""
        import usb.util

        try:
            interface = self.dev.device.get_active_configuration()[(0, 0)]
        except Exception as exc:  # no configuration yet: keep python-escpos's defaults
            raise translate(exc, self.url, "reading its USB descriptors") from exc
        for ep in interface:
            if usb.util.endpoint_type(ep.bmAttributes) != usb.util.ENDPOINT_TYPE_BULK:
                continue
            outward = usb.util.endpoint_direction(ep.bEndpointAddress) == usb.util.ENDPOINT_OUT
            key = "out_ep" if outward else "in_ep"
            if key not in self.url.options:
                setattr(self.dev, key, ep.bEndpointAddress)

    def send(self, data: bytes) -> None:
        self.open()
        try:
            if self.url.scheme == "serial":
                # Slow serial links: allow the time the bytes need at the baud rate, plus the timeout.
                baud = int(self.url.options.get("baudrate", "9600"))
                self.dev.device.write_timeout = self.timeout + len(data) * 10 / baud
            self.dev._raw(data)
            if self.url.scheme == "serial":
                self.dev.device.write_timeout = self.timeout
        except Exception as exc:
            self.close()
            raise translate(exc, self.url, "sending the label") from exc

    def _drain(self) -> None:
        d = self.dev.device
        if self.url.scheme == "tcp":
            d.setblocking(False)
            try:
                while d.recv(256):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            finally:
                d.settimeout(self.timeout)
        elif self.url.scheme == "serial":
            d.reset_input_buffer()

    def query(self, n: int, timeout: float = STATUS_TIMEOUT) -> int | None:
        """Send DLE EOT n and wait up to `timeout` s for the one-byte answer. Raises
        PrinterError when the link is gone (closed socket, vanished tty)."""
        self.open()
        d = self.dev.device
        try:
            self._drain()
            self.dev._raw(DLE_EOT + bytes((n,)))
            if self.url.scheme == "tcp":
                d.settimeout(timeout)
                try:
                    got = d.recv(1)
                except TimeoutError:
                    return None
                finally:
                    d.settimeout(self.timeout)
                if got == b"":
                    raise ConnectionResetError("the printer closed the connection")
            elif self.url.scheme == "serial":
                d.timeout = timeout
                try:
                    got = d.read(1)
                finally:
                    d.timeout = self.timeout
            else:  # usb: the IN endpoint, with our timeout (python-escpos's _read waits pyusb's default)
                got = self._usb_read(timeout)
        except PrinterError:
            raise
        except Exception as exc:
            self.close()
            raise translate(exc, self.url, "asking for its status") from exc
        return got[0] if got else None

    def _usb_read(self, timeout: float) -> bytes:
        """One status answer from the IN endpoint, or b"" when none comes in time: many USB
        printers never answer DLE EOT, which means "status unknown", not "unreachable"."""
        import usb.core

        try:
            return bytes(self.dev.device.read(self.dev.in_ep, 16, max(1, int(timeout * 1000)))[:1])
        except usb.core.USBTimeoutError:
            return b""

    def close(self) -> None:
        """Close the link, also after a failure (a half-open device would otherwise be
        flushed by python-escpos's __del__, which blocks or raises on a dead tty)."""
        self._open = False
        if not self.dev._device:
            return
        device = self.dev._device
        try:
            if self.url.scheme == "serial":
                # Not python-escpos's close(): its flush() waits forever on a printer that stopped reading.
                device.close()
            else:
                self.dev.close()
        except Exception:  # closing a dead link: nothing left to do
            pass
        if self.url.scheme == "usb":
            _give_back_to_kernel(device)
        self.dev._device = False


def _give_back_to_kernel(device: Any) -> None:
    """python-escpos detaches the kernel's printer driver (usblp) to claim the interface; give
    the interface back, or /dev/usb/lp0 stays gone until the printer is re-plugged."""
    try:
        if not device.is_kernel_driver_active(0):
            device.attach_kernel_driver(0)
    except Exception:  # unplugged, no driver for it, or a backend without the call: nothing to restore
        pass


def open_printer(
    url: str | PrinterURL, *, data_dir: str | Path = ".", profile: str = "default", timeout: float = DEFAULT_TIMEOUT
) -> Printer:
    """A Printer for a URL (not yet connected: the first send/query connects)."""
    u = url if isinstance(url, PrinterURL) else parse_printer_url(url)
    if u.scheme == "preview":
        return PreviewPrinter(Path(data_dir) / "labels")
    if u.scheme == "file":
        return FilePrinter(u, timeout)
    if u.scheme == "tcp":
        from escpos.printer import Network

        return EscposPrinter(u, Network(u.target, port=u.port, timeout=timeout, profile=profile), timeout)
    if u.scheme == "serial":
        from escpos.printer import Serial

        o = u.options
        dev = Serial(
            devfile=u.target,
            baudrate=int(o.get("baudrate", "9600")),
            bytesize=int(o.get("bytesize", "8")),
            timeout=timeout,
            parity=o.get("parity") or None,
            stopbits=int(o["stopbits"]) if o.get("stopbits") else None,
            xonxoff=o.get("xonxoff", "0") in ("1", "true", "yes"),
            dsrdtr=False,
            profile=profile,
        )
        return EscposPrinter(u, dev, timeout)
    if u.scheme == "usb":
        from escpos.printer import Usb

        vid, pid = (int(x, 16) for x in u.target.split(":"))
        o = u.options
        dev = Usb(
            vid,
            pid,
            timeout=int(timeout * 1000),
            # Replaced by the printer's own bulk endpoints when the URL names none (_usb_endpoints).
            in_ep=int(o.get("in_ep", "0x82"), 0),
            out_ep=int(o.get("out_ep", "0x01"), 0),
            profile=profile,
        )
        return EscposPrinter(u, dev, timeout)
    raise _bad(str(u), "unknown kind")


def printer_status(url: str, *, data_dir: str | Path = ".", timeout: float = 1.0) -> PrinterStatus:
    """Connect, ask DLE EOT 1/2/4, disconnect. Never raises for an unreachable printer."""
    try:
        u = parse_printer_url(url)
    except ConfigError as exc:
        return PrinterStatus(url, False, detail=exc.message)
    if u.scheme == "preview":
        return PrinterStatus("preview", True, detail="preview: PNG files in the data dir")
    if u.scheme == "file":
        ok = os.access(u.target, os.W_OK) or (
            not os.path.exists(u.target) and os.access(os.path.dirname(u.target) or ".", os.W_OK)
        )
        return PrinterStatus(str(u), ok, detail="" if ok else f"{u.target} is not writable")
    printer = open_printer(u, data_dir=data_dir, timeout=timeout)
    try:
        return printer.status(timeout)
    except PrinterError as exc:
        return PrinterStatus(str(u), False, detail=exc.message)
    finally:
        printer.close()
