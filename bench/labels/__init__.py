"""Asset labels: templates (data), layout, ESC/POS rendering, PNG preview, printers and
the print queue.

    label_fields(store, asset_tag=..., config=...) -> LabelFields      (content)
    load_template(name) -> Template                                    (template)
    layout(template, fields) -> Layout                                 (layout)
    escpos_bytes(layout, capabilities(profile), copies) -> bytes       (render)
    save_png(layout, path) / render_image(layout)                      (preview)
    open_printer(url, ...) -> Printer; printer_status(url)             (printers)
    print_label(station, ...) / retry_pending(station) / pending(store) (queue)
"""

import json
import os
import pickle
import platform
from pathlib import Path


def _escpos_capabilities_cache() -> None:
    """python-escpos parses its 1 MB capabilities JSON with a YAML parser (~0.4 s) on every
    import and caches the result in a fresh mkdtemp() directory each time (litter in /tmp,
    never reused). Point it at a private per-user cache and fill it with the same data
    parsed as JSON, written atomically, before escpos is imported."""
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" in os.environ:
        return
    try:
        from importlib import resources

        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bench" / "escpos"
        cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        if cache.stat().st_uid != os.getuid() or cache.stat().st_mode & 0o022:
            return  # not ours alone: never unpickle from a directory others can write
        target = cache / f"{platform.python_version()}.capabilities.pickle"
        source = resources.files("escpos") / "capabilities.json"
        with resources.as_file(source) as src:
            if not target.exists() or target.stat().st_mtime < src.stat().st_mtime:
                data = json.loads(src.read_text(encoding="utf-8"))
                tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
                tmp.write_bytes(pickle.dumps(data))
                os.replace(tmp, target)
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(cache)
    except (OSError, ValueError, ModuleNotFoundError):
        pass  # python-escpos falls back to its own temporary directory


_escpos_capabilities_cache()
