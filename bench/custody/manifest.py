"""Donor manifests: the donor's own asset list as CSV or XLSX, read whole or not at all.

Columns are found by header name, case and spacing ignored (serial, asset tag, make, model,
category, and the usual variants). Any bad row stops the import with a message naming the row,
so a manifest is never half-imported."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.canonical import canonical_json
from bench.custody.model import CATEGORIES, CustodyError, category_of, normalise_code
from bench.model import clean_text

FIELDS = ("serial", "asset_tag", "make", "model", "category")
#: Header spellings per field, after normalise_code (case, spaces, -_./: removed).
HEADERS: dict[str, tuple[str, ...]] = {
    "serial": ("serial", "serialnumber", "serialno", "sn", "chassisserial", "serialnum"),
    "asset_tag": ("assettag", "asset", "assetno", "assetnumber", "assetid", "tag", "donorassettag"),
    "make": ("make", "manufacturer", "vendor", "brand"),
    "model": ("model", "modelname", "modelnumber"),
    "category": ("category", "type", "devicetype", "assettype", "class"),
}
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass(frozen=True)
class ManifestRow:
    row: int  # the file's own line / sheet row number, header = 1
    serial: str
    asset_tag: str
    make: str
    model: str
    category: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "serial": self.serial,
            "asset_tag": self.asset_tag,
            "make": self.make,
            "model": self.model,
            "category": self.category,
        }

    def describe(self) -> str:
        what = " ".join(p for p in (self.make, self.model) if p) or self.category or "asset"
        return what + (f", donor tag {self.asset_tag}" if self.asset_tag else "")


@dataclass(frozen=True)
class Manifest:
    file_name: str
    file_sha256: str
    format: str  # csv | xlsx
    columns: dict[str, str]  # field -> header as written in the file
    rows: tuple[ManifestRow, ...]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a serial typed as a number comes back 12345.0
    return clean_text(str(value), 120)


def _columns(header: list[str], where: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = normalise_code(name)
        for fieldname, spellings in HEADERS.items():
            if key in spellings:
                if fieldname in found:
                    raise CustodyError(
                        f"{where}: two columns mean {fieldname.replace('_', ' ')}: "
                        f"{header[found[fieldname]]!r} and {name!r}",
                        hint="rename or delete one of them",
                    )
                found[fieldname] = index
    if "serial" not in found and "asset_tag" not in found:
        raise CustodyError(
            f"{where}: no serial or asset tag column in the header row ({', '.join(repr(h) for h in header if h)})",
            hint="the first row must name the columns: serial, asset tag, make, model, category",
        )
    return found


def parse_rows(table: list[tuple[int, list[Any]]], where: str) -> tuple[dict[str, str], tuple[ManifestRow, ...]]:
    """Header + data rows (row number, cells) into checked manifest rows; raises on the first bad row."""
    table = [(n, cells) for n, cells in table if any(_cell(c) for c in cells)]
    if not table:
        raise CustodyError(f"{where} is empty", hint="export the donor's asset list with a header row")
    header_n, header_cells = table[0]
    header = [_cell(c) for c in header_cells]
    cols = _columns(header, f"{where} row {header_n}")
    if len(table) - 1 > MAX_ROWS:
        raise CustodyError(f"{where} has {len(table) - 1} rows; at most {MAX_ROWS} are read", hint="split the batch")
    rows: list[ManifestRow] = []
    seen: dict[str, int] = {}
    for n, cells in table[1:]:
        values = {f: _cell(cells[i]) if i < len(cells) else "" for f, i in cols.items()}
        serial, tag = values.get("serial", ""), values.get("asset_tag", "")
        if not normalise_code(serial) and not normalise_code(tag):
            raise CustodyError(
                f"{where} row {n}: neither a serial nor an asset tag",
                hint="every asset needs one of them; fix or delete the row and import again (nothing was imported)",
            )
        raw_cat = values.get("category", "")
        cat = category_of(raw_cat)
        if raw_cat and not cat:
            raise CustodyError(
                f"{where} row {n}: category {raw_cat!r} is not one of {', '.join(CATEGORIES)}",
                hint="use laptop, desktop, tablet, phone or other (nothing was imported)",
            )
        for kind, code in (("serial", serial), ("asset tag", tag)):
            key = f"{kind}:{normalise_code(code)}"
            if normalise_code(code):
                if key in seen:
                    raise CustodyError(
                        f"{where} row {n}: {kind} {code!r} is already on row {seen[key]}",
                        hint="each asset once per manifest (nothing was imported)",
                    )
                seen[key] = n
        rows.append(ManifestRow(n, serial, tag, values.get("make", ""), values.get("model", ""), cat))
    if not rows:
        raise CustodyError(f"{where} has a header row but no assets")
    return {f: header[i] for f, i in sorted(cols.items())}, tuple(rows)


def _csv_table(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise CustodyError(f"line {reader.line_num}: {exc}", hint="save the file again as CSV") from exc


def _xlsx_table(data: bytes, where: str) -> list[tuple[int, list[Any]]]:
    import zipfile

    import openpyxl  # type: ignore[import-untyped]

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise CustodyError(
            f"{where} is not a readable .xlsx workbook: {exc}", hint="save it again from the spreadsheet"
        ) from exc
    try:
        sheet = book.worksheets[0]
        out: list[tuple[int, list[Any]]] = []
        for n, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            out.append((n, list(row)))
            if n > MAX_ROWS + 100:
                break
        return out
    finally:
        book.close()


def read(path: Path | str) -> Manifest:
    """The manifest in a .csv or .xlsx file (checked whole; raises CustodyError naming the bad row)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise CustodyError(f"{path.name} is {size} bytes; a manifest of at most {MAX_BYTES} bytes is read")
        data = path.read_bytes()
    except OSError as exc:
        raise CustodyError(f"cannot read {path}: {exc.strerror}") from exc
    is_xlsx = data[:4] == b"PK\x03\x04"
    if path.suffix.lower() in (".xlsx", ".xlsm") and not is_xlsx:
        raise CustodyError(f"{path.name} is named .xlsx but is not a workbook", hint="export it again")
    if path.suffix.lower() == ".xls":
        raise CustodyError(f"{path.name} is an old .xls workbook", hint="save it as .xlsx or .csv")
    fmt = "xlsx" if is_xlsx else "csv"
    table = _xlsx_table(data, path.name) if is_xlsx else _csv_table(data)
    columns, rows = parse_rows(table, path.name)
    return Manifest(path.name, hashlib.sha256(data).hexdigest(), fmt, columns, rows)


def from_register(answer: Any, where: str) -> Manifest:
    """The manifest a register serves for a batch (`GET /v1/batches/{id}/manifest`, uploaded there by a
    coordinator), checked row by row exactly like a file: a register's answer is input like any other."""
    rows = answer.get("rows") if isinstance(answer, dict) else None
    if not isinstance(rows, list):
        raise CustodyError(f"{where}: the register's answer is not a manifest (no list of rows)")
    if len(rows) > MAX_ROWS:
        raise CustodyError(f"{where} has {len(rows)} rows; at most {MAX_ROWS} are read", hint="split the batch")
    header = ["serial", "asset tag", "make", "model", "category"]
    table: list[tuple[int, list[Any]]] = [(1, header)]
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise CustodyError(f"{where}: row {i + 2} is not an object")
        cells = [row.get("serial"), row.get("asset_tag"), row.get("make"), row.get("model"), row.get("kind")]
        kept = [c if isinstance(c, str | int) and not isinstance(c, bool) else None for c in cells]
        if not any(_cell(c) for c in kept):  # a file's blank line is skipped; a register's empty entry is not
            raise CustodyError(f"{where} row {i + 2}: neither a serial nor an asset tag")
        table.append((i + 2, kept))
    columns, parsed = parse_rows(table, where)
    digest = hashlib.sha256(canonical_json(rows)).hexdigest()
    return Manifest(where, digest, "register", columns, parsed)


def match(rows: list[dict[str, Any]] | tuple[dict[str, Any], ...], code: str) -> dict[str, Any] | None:
    """The manifest row (payload dict) whose serial or asset tag is this code, normalised."""
    key = normalise_code(code)
    if not key:
        return None
    for row in rows:
        if key in (normalise_code(row.get("serial")), normalise_code(row.get("asset_tag"))):
            return row
    return None
