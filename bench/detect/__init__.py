"""Finding devices (enumerate, monitor) and deciding whether they may be wiped (guard)."""
