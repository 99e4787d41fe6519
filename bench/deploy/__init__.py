"""Putting bench on a bench PC (install) and checking it stays healthy (doctor)."""
