"""Phones: detect Android (adb) and iOS (libimobiledevice) devices, read their facts and
health, and run a recorded, assisted factory-reset workflow."""
