"""bench: the refurbishment-bench agent of a device bank.

The core (detect, wipe, health, labels, store, sync, certs) is headless; the
TUI and the CLI are thin clients of it.
"""

__version__ = "0.1.0"
