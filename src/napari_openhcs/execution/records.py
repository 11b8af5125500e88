"""What a run leaves beside its images: ``run.json``, measurement tables, per-well aggregates.

All files are written atomically (``napari_openhcs.atomic``), so a crash never leaves a
half-written table or a run record that claims more than was done.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from napari_openhcs import tables
from napari_openhcs.atomic import write_text

#: Leading columns of the long measurement format, in order.
KEY_COLUMNS = (
    "plate",
    "well",
    "row",
    "column",
    "site",
    "timepoint",
    "channel",
    "intensity_channel",
    "label",
)


def _ordered_columns(rows: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    keys = [k for k in KEY_COLUMNS if k in seen]
    return keys + [k for k in seen if k not in KEY_COLUMNS]


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def rows_to_csv(rows: list[dict], columns: list[str] | None = None) -> str:
    """CSV text of row dicts, key columns first, numbers written as plain Python values."""
    buf = io.StringIO()
    columns = columns or _ordered_columns(rows)
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _plain(row.get(k)) for k in columns})
    return buf.getvalue()


def read_csv_rows(path: Path) -> list[dict]:
    """Rows of a CSV written by ``rows_to_csv`` (values as strings)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_well_measurements(out: Path, well: str, table: pa.Table) -> Path:
    """``<out>/measurements/<well>.csv`` and ``<well>.parquet``: the well's measurement table.

    Key columns first (``KEY_COLUMNS``), then the rest in their order. The Parquet file is
    written first, so a CSV present means both are complete. Returns the CSV's path.
    """
    folder = Path(out) / "measurements"
    folder.mkdir(parents=True, exist_ok=True)
    table = tables.select_first(tables.as_table(table), KEY_COLUMNS)
    tables.write_parquet(table, folder / f"{well}.parquet")
    path = folder / f"{well}.csv"
    tables.write_csv(table, path)
    return path


def read_well_measurements(out: Path, well: str) -> pa.Table | None:
    """A well's measurement table as written by ``write_well_measurements`` (typed), or None.

    A well finished by a run that wrote only the CSV is read from the CSV.
    """
    folder = Path(out) / "measurements"
    parquet, csv_path = folder / f"{well}.parquet", folder / f"{well}.csv"
    if parquet.exists():
        return tables.read_table(parquet)
    if csv_path.exists():
        return tables.read_csv(csv_path)
    return None


def merge_measurements(out: Path, wells: Iterable[str]) -> Path | None:
    """Merge the per-well tables of ``wells`` into ``<out>/measurements.csv`` and ``.parquet``.

    The per-well Parquet files are read with their types; columns are united across wells.
    """
    out = Path(out)
    found = [read_well_measurements(out, well) for well in sorted(wells)]
    merged = tables.concat(t for t in found if t is not None and t.num_rows)
    if merged is None:
        return None
    merged = tables.select_first(merged, KEY_COLUMNS)
    target = out / "measurements.csv"
    tables.write_csv(merged, target)
    tables.write_parquet(merged, target.with_suffix(".parquet"))
    return target


def write_well_table(
    out: Path,
    wells: Mapping[str, dict],
    plate_map: Mapping | None,
    profiles: tuple[list, Mapping[str, dict]] | None = None,
) -> Path:
    """``<out>/wells.csv`` and ``wells.parquet``: one row per well with its status,
    aggregates, plate-map columns and per-well profile.

    A ``missing`` column (planes joined by ``"; "``) follows ``status`` when a well lacks
    image planes. ``profiles`` is ``(columns, {well: values})`` from
    ``celltables.profile_rows``: the counts and feature medians, after the other columns.

    This is what the plate heat map reads.
    """
    rows = []
    for well, info in sorted(wells.items()):
        row = {"well": well, "status": info.get("status")}
        if info.get("missing"):  # image planes the plate lacks: those sites were not computed
            row["missing"] = "; ".join(info["missing"])
        row.update(info.get("aggregates") or {})
        if plate_map and well in plate_map:
            row.update(plate_map[well])
        rows.append(row)
    # well and status first, then the measurement columns by name, then the plate map's
    first = ["well", "status"] + (["missing"] if any("missing" in r for r in rows) else [])
    mapped = {k for well in wells if plate_map and well in plate_map for k in plate_map[well]}
    measured = sorted({k for info in wells.values() for k in (info.get("aggregates") or {})})
    columns = first + [k for k in measured if k not in mapped]
    columns += [k for k in _ordered_columns(rows) if k not in columns]
    if profiles is not None:
        profile_columns, by_well = profiles
        for row in rows:
            row.update(by_well.get(row["well"], {}))
        columns += [k for k in profile_columns if k not in columns]
    path = Path(out) / "wells.csv"
    tables.write_parquet(
        tables.as_table({k: [_plain(row.get(k)) for row in rows] for k in columns}),
        path.with_suffix(".parquet"),
    )
    write_text(path, rows_to_csv(rows, columns))
    return path


def library_versions() -> dict[str, str]:
    """Installed versions of this package and the libraries a run may use (for run.json)."""
    from importlib import metadata

    out = {}
    for dist in (
        "napari-openhcs",
        "numpy",
        "scikit-image",
        "zarr",
        "pyclesperanto",
        "torch",
        "cupy-cuda12x",
        "cupy-cuda13x",
        "dask",
        "distributed",
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def write_run_record(out: Path, record: dict) -> Path:
    """``<out>/run.json``: pipeline, versions, timings and per-well status."""
    path = Path(out) / "run.json"
    write_text(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    return path


def read_run_record(out: Path) -> dict | None:
    path = Path(out) / "run.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def measurement_summary(table: pa.Table | None) -> dict[str, float]:
    """Per-step means of the measurement table, for the plate heat map and ``wells.csv``.

    For each step that measured objects: ``<step>_count``, ``<step>_mean_area`` and
    ``<step>_mean_intensity``, or ``<step>_mean_intensity_ch<N>`` when the intensities were
    measured in channel N rather than in the objects' own channel. No column is unprefixed:
    each names the step it comes from. The count is of objects, not rows: a step whose chain
    measures its objects twice (in two channels) gives two rows per object, one label.
    """
    if table is None or not table.num_rows:
        return {}
    n = table.num_rows
    names = table.column_names

    def values(name: str) -> list:
        return table.column(name).to_pylist() if name in names else [None] * n

    steps = [str(s) for s in values("step")]
    channels = [str(c) for c in values("channel")]
    measured_in = (
        [str(c) for c in values("intensity_channel")] if "intensity_channel" in names else channels
    )
    rows_of: dict[str, list[int]] = {}
    for i, step in enumerate(steps):
        rows_of.setdefault(step, []).append(i)
    out: dict[str, float] = {}
    where = [values(c) for c in ("site", "timepoint", "channel", "plane", "label")]
    for step, rows in rows_of.items():
        objects = {tuple(column[i] for column in where) for i in rows if where[-1][i] is not None}
        out[f"{step}_count"] = len(objects) + sum(where[-1][i] is None for i in rows)
        own = {measured_in[i] == channels[i] for i in rows}
        intensity = (
            "mean_intensity" if own == {True} else f"mean_intensity_ch{measured_in[rows[0]]}"
        )
        for column, name in (("area", "mean_area"), ("mean_intensity", intensity)):
            numbers = _numbers(table, column, rows)
            if numbers.size:
                out[f"{step}_{name}"] = float(np.mean(numbers))
    return out


def _numbers(table: pa.Table, column: str, rows: list[int]) -> np.ndarray:
    """The non-null numeric values of ``column`` in ``rows`` (none for a text column)."""
    if column not in table.column_names:
        return np.zeros(0)
    picked = table.column(column).take(tables.column(np.asarray(rows, dtype=np.int64)))
    values = tables.numeric_values(picked)
    return np.zeros(0) if values is None else values
