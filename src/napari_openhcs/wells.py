"""Well names and plate grids: ``A01`` is row 1, column 1; ``AF48`` is row 32, column 48.

Rows are one or two upper-case letters (``A``..``Z``, then ``AA``..``AF`` on 1536-well plates),
columns two digits. Anything else (``a01``, ``AAA01``, ``A1``) is not a well name.
"""

from __future__ import annotations

import csv
import os
import re

from napari_openhcs.errors import InputError

#: Plate size -> (rows, columns) of the standard SBS formats.
PLATE_GRIDS: dict[int, tuple[int, int]] = {
    6: (2, 3),
    12: (3, 4),
    24: (4, 6),
    48: (6, 8),
    96: (8, 12),
    384: (16, 24),
    1536: (32, 48),
}

WELL_RE = re.compile(r"^(?P<row>[A-Z]{1,2})(?P<col>\d{2})$")


def row_letters(row: int) -> str:
    """Letters of a 1-based row number: 1 -> ``A``, 26 -> ``Z``, 27 -> ``AA``.

    Examples
    --------
    >>> row_letters(32)
    'AF'
    """
    if not 1 <= row <= 702:
        raise ValueError(f"row {row} is outside 1..702")
    letters = ""
    while row:
        row, rem = divmod(row - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def row_number(letters: str) -> int:
    """1-based row number of row letters: ``A`` -> 1, ``AF`` -> 32."""
    number = 0
    for ch in letters:
        number = number * 26 + (ord(ch) - ord("A") + 1)
    return number


def grid_position(well: str) -> tuple[int, int]:
    """0-based ``(row, column)`` of a well on the plate grid; lenient about case and digits.

    Examples
    --------
    >>> grid_position("B03")
    (1, 2)
    """
    letters = well.rstrip("0123456789")
    return row_number(letters.upper()) - 1, int(well[len(letters) :]) - 1


def well_name(row: int, column: int) -> str:
    """The well name of a 1-based row and column.

    Examples
    --------
    >>> well_name(3, 12)
    'C12'
    """
    return f"{row_letters(row)}{column:02d}"


def parse_well(name: str) -> tuple[int, int] | None:
    """``(row, column)`` (1-based) of a well name, or ``None`` if it is not one.

    Examples
    --------
    >>> parse_well("AF48")
    (32, 48)
    >>> parse_well("a01") is None
    True
    """
    m = WELL_RE.match(name)
    if m is None:
        return None
    column = int(m["col"])
    if column == 0:
        return None
    return row_number(m["row"]), column


def well_sort_key(name: str) -> tuple[int, int]:
    """Sort wells row-major (``B01`` before ``AA01``), whatever the length of the row name."""
    parsed = parse_well(name)
    return parsed if parsed is not None else (10**6, 10**6)


def grid_for(wells: list[str]) -> tuple[int, int]:
    """The smallest standard plate grid ``(rows, columns)`` that holds every well given."""
    positions = [p for p in (parse_well(w) for w in wells) if p is not None]
    max_row = max((r for r, _ in positions), default=1)
    max_col = max((c for _, c in positions), default=1)
    for rows, cols in sorted(PLATE_GRIDS.values()):
        if max_row <= rows and max_col <= cols:
            return rows, cols
    return max_row, max_col


def grid_holding(rows: int, columns: int, wells: list[str]) -> tuple[int, int]:
    """A grid at least ``rows`` x ``columns`` that holds every well given.

    The declared grid when it already holds them; else the smallest standard plate grid that
    holds both the wells and the declared grid (or just enough rows and columns, past 1536).

    Examples
    --------
    >>> grid_holding(3, 4, ["A01", "D04"])
    (4, 6)
    >>> grid_holding(8, 12, ["H12"])
    (8, 12)
    """
    rows, columns = max(0, int(rows or 0)), max(0, int(columns or 0))
    positions = [p for p in (parse_well(w) for w in wells) if p is not None]
    if all(r <= rows and c <= columns for r, c in positions) and rows and columns:
        return rows, columns
    need_rows = max([rows, *(r for r, _ in positions)])
    need_cols = max([columns, *(c for _, c in positions)])
    return grid_for([well_name(max(1, need_rows), max(1, need_cols))])


def plate_wells(plate: int) -> list[str]:
    """Every well of a standard plate, row-major.

    Raises
    ------
    InputError
        If ``plate`` is not one of the standard sizes.
    """
    if plate not in PLATE_GRIDS:
        sizes = ", ".join(str(s) for s in PLATE_GRIDS)
        raise InputError(f"plate size {plate} is not a standard plate ({sizes})")
    rows, cols = PLATE_GRIDS[plate]
    return [well_name(r, c) for r in range(1, rows + 1) for c in range(1, cols + 1)]


#: Names of a plate map's well column: ours, then pycytominer's platemap layout.
PLATE_MAP_WELL_COLUMNS = ("well", "well_position")


def read_plate_map(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """A plate map CSV by well: a ``well`` column plus any others (condition, control, ...).

    The well column may also be pycytominer's ``well_position``. Values stay text, as
    written. Runs add the columns to ``wells.csv``; the synthetic plate generator and screens
    read the same file. Bad input (no well column, a well named twice) raises ``InputError``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "map.csv"
    >>> _ = path.write_text("well,control\\nA01,negative\\n")
    >>> read_plate_map(path)
    {'A01': {'control': 'negative'}}
    """
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise InputError(f"cannot read plate map {path}: {exc.strerror}") from exc
    key = next((k for k in PLATE_MAP_WELL_COLUMNS if rows and k in rows[0]), None)
    if key is None:
        raise InputError(
            f"plate map {path} needs a 'well' (or 'well_position') column "
            "(e.g. well,condition,control)"
        )
    out: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        well = (row[key] or "").strip()
        if well in out:
            raise InputError(f"plate map {path}: well {well} is named twice (line {line})")
        if None in row:  # csv.DictReader keeps the surplus fields of a row under None
            raise InputError(f"plate map {path}: line {line} has more fields than the header")
        out[well] = {k: v for k, v in row.items() if k != key}
    return out
