"""The only place bench runs external programs (see runner.py), plus one module per
tool with argv builders and pure parse functions tested on real captures."""
