"""What a run leaves beside its images: ``run.json``, measurement tables, per-well aggregates.

All files are written atomically (temp file in the same folder, then ``os.replace``), so a
crash never leaves a half-written table or a run record that claims more than was done.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Leading columns of the long measurement format, in order.
KEY_COLUMNS = (
    "plate", "well", "row", "column", "site", "timepoint", "channel", "intensity_channel", "label"
)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates 0600; give the file the mode a plain open() would (umask applied).
        os.chmod(tmp, 0o666 & ~_current_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def table_rows(table: Mapping[str, Iterable]) -> list[dict]:
    """Turn a column table ``{name: values}`` into a list of row dicts."""
    columns = {k: list(v) for k, v in table.items()}
    n = max((len(v) for v in columns.values()), default=0)
    return [{k: (v[i] if i < len(v) else None) for k, v in columns.items()} for i in range(n)]


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


def write_well_measurements(out: Path, well: str, rows: list[dict]) -> Path:
    """``<out>/measurements/<well>.csv``."""
    path = Path(out) / "measurements" / f"{well}.csv"
    atomic_write_text(path, rows_to_csv(rows))
    return path


def merge_measurements(out: Path, wells: Iterable[str]) -> Path | None:
    """Merge the per-well CSVs of ``wells`` into ``<out>/measurements.csv`` (+ Parquet)."""
    out = Path(out)
    rows: list[dict] = []
    for well in sorted(wells):
        path = out / "measurements" / f"{well}.csv"
        if path.exists():
            rows.extend(read_csv_rows(path))
    if not rows:
        return None
    target = out / "measurements.csv"
    atomic_write_text(target, rows_to_csv(rows))
    _write_parquet(target)
    return target


def _write_parquet(csv_path: Path) -> None:
    try:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq
    except ImportError:
        return
    table = pacsv.read_csv(csv_path)
    tmp = csv_path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, csv_path.with_suffix(".parquet"))


def read_plate_map(path: str | os.PathLike) -> dict[str, dict[str, str]]:
    """A plate map CSV (a ``well`` column plus any of condition, control, ...) by well."""
    from napari_openhcs.errors import InputError

    try:
        rows = read_csv_rows(Path(path))
    except OSError as exc:
        raise InputError(f"cannot read plate map {path}: {exc.strerror}") from exc
    if not rows or "well" not in rows[0]:
        raise InputError(f"plate map {path} needs a 'well' column (e.g. well,condition,control)")
    return {row["well"].strip(): {k: v for k, v in row.items() if k != "well"} for row in rows}


def write_well_table(out: Path, wells: Mapping[str, dict], plate_map: Mapping | None) -> Path:
    """``<out>/wells.csv``: one row per well with its status, aggregates and plate-map columns.

    A ``missing`` column (planes joined by ``"; "``) follows ``status`` when a well lacks
    image planes.

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
    path = Path(out) / "wells.csv"
    atomic_write_text(path, rows_to_csv(rows, columns))
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
    atomic_write_text(path, json.dumps(record, indent=2, sort_keys=True, default=str) + "\n")
    return path


def read_run_record(out: Path) -> dict | None:
    path = Path(out) / "run.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def measurement_summary(rows: list[dict]) -> dict[str, float]:
    """Per-step means of the measurement rows, for the plate heat map and ``wells.csv``.

    For each step that measured objects: ``<step>_count``, ``<step>_mean_area`` and
    ``<step>_mean_intensity``, or ``<step>_mean_intensity_ch<N>`` when the intensities were
    measured in channel N rather than in the objects' own channel. No column is unprefixed:
    each names the step it comes from.
    """
    import numpy as np

    by_step: dict[str, list[dict]] = {}
    for r in rows:
        by_step.setdefault(str(r.get("step")), []).append(r)
    out: dict[str, float] = {}
    for step, step_rows in by_step.items():
        out[f"{step}_count"] = len(step_rows)
        own = {str(r.get("intensity_channel", r.get("channel"))) == str(r.get("channel"))
               for r in step_rows}
        other = str(step_rows[0].get("intensity_channel"))
        intensity = "mean_intensity" if own == {True} else f"mean_intensity_ch{other}"
        for column, name in (("area", "mean_area"), ("mean_intensity", intensity)):
            values = [r[column] for r in step_rows if isinstance(r.get(column), (int, float))]
            if values:
                out[f"{step}_{name}"] = float(np.mean(values))
    return out
