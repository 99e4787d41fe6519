"""One module per schema revision (0001 adopts round 1's tables)."""
