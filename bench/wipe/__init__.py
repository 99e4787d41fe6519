"""Wipe: profiles, planner, overwrite, verify, firmware erase, engine."""
