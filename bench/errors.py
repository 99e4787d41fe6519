"""One error tree for bench. Every error carries a message a technician can act on
and, where there is one, a hint saying what to do next.

    BenchError
    ├── ConfigError            bad or unreadable config file
    ├── ToolError              an external program
    │   ├── ToolMissing        not installed (names the Debian package)
    │   ├── ToolTimeout        ran past its timeout and was killed
    │   └── ToolFailed         ran but reported failure
    ├── ParseError             a tool's output could not be understood
    ├── DeviceError            a drive or phone
    │   ├── ProtectedDevice    the guard refused it
    │   ├── DeviceChanged      the node now points at another device
    │   ├── DeviceRemoved      the device went away
    │   ├── DeviceFrozen       ATA security frozen
    │   └── EraseUnsupported   the device cannot do what the profile asks
    ├── ProfileError           a wipe profile file is invalid
    ├── StoreError             the local record store
    │   ├── StoreFull          the data disk is full: no new work
    │   └── ChainBroken        the hash chain does not verify
    ├── SyncError              talking to the register
    ├── PrinterError           printing a label
    ├── TemplateError          a label template file is invalid
    └── CertificateError       building, signing or verifying a certificate

Foreign exceptions (OSError, sqlite3.Error, httpx errors, ...) are translated into
these at the module boundary that meets them.
"""

from __future__ import annotations


class BenchError(Exception):
    """Base of every error bench reports to a person."""

    title = "Error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(BenchError):
    title = "Configuration"


class ToolError(BenchError):
    title = "Tool"


class ToolMissing(ToolError):
    title = "Tool missing"


class ToolTimeout(ToolError):
    title = "Tool timed out"


class ToolFailed(ToolError):
    title = "Tool failed"


class ParseError(BenchError):
    title = "Unreadable tool output"


class DeviceError(BenchError):
    title = "Device"


class ProtectedDevice(DeviceError):
    title = "Protected device"


class DeviceChanged(DeviceError):
    title = "Device changed"


class DeviceRemoved(DeviceError):
    title = "Device removed"


class DeviceFrozen(DeviceError):
    title = "Drive frozen"


class EraseUnsupported(DeviceError):
    title = "Erase not supported"


class ProfileError(BenchError):
    title = "Wipe profile"


class StoreError(BenchError):
    title = "Record store"


class StoreFull(StoreError):
    title = "Data disk full"


class ChainBroken(StoreError):
    title = "Record chain broken"


class SyncError(BenchError):
    title = "Register sync"


class PrinterError(BenchError):
    title = "Printer"


class TemplateError(BenchError):
    title = "Label template"


class CertificateError(BenchError):
    title = "Certificate"
