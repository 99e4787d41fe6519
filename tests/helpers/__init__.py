"""Shared test helpers: loop devices we create ourselves, replayed tool outputs."""
