"""OME-Zarr HCS plates: the plate writer (atomic per field and per well).

Plates are read by the plate layer's OME-Zarr handler (``plates.omezarr``, which also has
``read_plate`` and ``read_plate_well``); this module writes them.

Layout (NGFF 0.5 shown; 0.4 uses ``.zgroup``/``.zattrs`` instead of ``zarr.json``)::

    <plate>.ome.zarr/zarr.json          plate metadata: rows, columns, finished wells only
    <plate>.ome.zarr/A/zarr.json        row group
    <plate>.ome.zarr/A/1/zarr.json      well A01: its fields, written when the well finishes
    <plate>.ome.zarr/A/1/0/             field 0 (site 1): multiscales, omero, arrays 0[, 1]
    <plate>.ome.zarr/A/1/0/labels/...   label images of that field

Well ``A01`` is row ``A``, column ``1``; site ``n`` is field ``n - 1``. A field is written
into a temporary folder and renamed into place; a well is listed in the plate's ``wells``
only by ``finish_well``, which rewrites the plate metadata atomically, so a plate
interrupted at any moment is valid and lists exactly the finished wells. A plate with no
finished well yet has no ``plate`` metadata (NGFF needs at least one well); its layout is
kept under the ``napari_openhcs`` attribute so that writing can resume.

Field writes may come from several processes at once (each writes its own fields);
``finish_well`` must be called from one process (the run's main process).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from napari_openhcs.atomic import new_tmp_dir, remove_stale_tmp, swap_into_place
from napari_openhcs.errors import InputError, RunError
from napari_openhcs.storage import ngff as meta
from napari_openhcs.storage.images import write_image_group
from napari_openhcs.storage.ngff import read_group_attrs
from napari_openhcs.storage.zarrio import ensure_group, write_group
from napari_openhcs.wells import parse_well, row_letters, well_name

#: Our own attribute key on the plate group (layout kept for resuming).
OWN_KEY = "napari_openhcs"


class OmeZarrPlateWriter:
    """Write an OME-Zarr HCS plate field by field; reopen an existing one to resume.

    Parameters
    ----------
    path : str or Path
        The plate folder, e.g. ``out/plate.ome.zarr``. Created if absent (an empty existing
        folder is fine); an existing plate is reopened and its finished wells are kept.
    rows, columns : int or sequence of str
        The plate grid: counts (rows named ``A``, ``B``, ..., columns ``1``, ``2``, ...) or
        the names themselves.
    name : str, optional
        Plate name stored in the metadata.
    ngff : {"0.5", "0.4"}
        OME-NGFF version: 0.5 (Zarr v3, the default) or 0.4 (Zarr v2).
    compressor : {"lz4", "zstd", "gzip", "none"}
        Chunk compression: Blosc-LZ4 (default), Blosc-zstd, gzip or none.
    levels : int
        Resolution levels per field (level ``k`` halves y and x ``k`` times). One by default.

    Raises
    ------
    InputError
        If ``path`` holds something else (a file, a non-empty folder that is not a plate, or
        a plate of another NGFF version or grid).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "p.ome.zarr"
    >>> w = OmeZarrPlateWriter(out, 8, 12, name="p")
    >>> _ = w.write_field("A01", 0, np.zeros((1, 2, 1, 16, 16), np.uint16))
    >>> w.finish_well("A01", [0])
    >>> w.finished_wells()
    ['A01']
    """

    def __init__(
        self,
        path: str | Path,
        rows: int | Sequence[str],
        columns: int | Sequence[str],
        *,
        name: str | None = None,
        ngff: str = "0.5",
        compressor: str = "lz4",
        levels: int = 1,
        shards: bool = False,
    ) -> None:
        self.path = Path(path)
        self.ngff = meta.check_ngff(ngff)
        self.compressor = meta.check_compressor(compressor)
        self.shards = meta.check_shards(shards, self.ngff)
        self.levels = max(1, int(levels))
        self.row_names = _names(rows, row_letters)
        self.column_names = _names(columns, str)
        self.name = name
        layout = read_layout(self.path)
        if layout is None:
            self._create()
        else:
            self._check_same(layout)
            self.name = self.name or layout.get("name")

    # -- creation and resuming -------------------------------------------------------------

    def _layout(self) -> dict:
        return {
            "ngff": self.ngff,
            "rows": self.row_names,
            "columns": self.column_names,
            "name": self.name,
        }

    def _create(self) -> None:
        if self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise InputError(
                f"{self.path} exists and is not an OME-Zarr plate written by napari-openhcs "
                "(choose an empty or new output folder)"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        write_group(self.path, self._plate_attrs([], 0), ngff=self.ngff)

    def _check_same(self, layout: dict) -> None:
        if layout["ngff"] != self.ngff:
            raise InputError(
                f"{self.path} is an NGFF {layout['ngff']} plate; resume it with NGFF "
                f"{layout['ngff']} or write to a new folder"
            )
        if layout["rows"] != self.row_names or layout["columns"] != self.column_names:
            raise InputError(
                f"{self.path} has a {len(layout['rows'])} x {len(layout['columns'])} grid, "
                f"not {len(self.row_names)} x {len(self.column_names)}; write to a new folder"
            )

    def _plate_attrs(self, wells: list[tuple[str, int, int]], field_count: int) -> dict:
        body: dict = {}
        if wells:
            body["plate"] = meta.plate_metadata(
                self.ngff,
                self.row_names,
                self.column_names,
                wells,
                name=self.name,
                field_count=field_count or None,
            )
        attrs = meta.wrap(self.ngff, body) if body else {}
        attrs[OWN_KEY] = {"layout": self._layout()}
        return attrs

    # -- wells and fields ------------------------------------------------------------------

    def well_path(self, well: str) -> tuple[str, int, int]:
        """``(path, row index, column index)`` of a well name, e.g. ``("A/1", 0, 0)``."""
        parsed = parse_well(well)
        if parsed is None:
            raise InputError(f"{well!r} is not a well name (like A01 or AF48)")
        r, c = parsed[0] - 1, parsed[1] - 1
        if r >= len(self.row_names) or c >= len(self.column_names):
            raise InputError(
                f"well {well} is outside this plate's {len(self.row_names)} x "
                f"{len(self.column_names)} grid"
            )
        return f"{self.row_names[r]}/{self.column_names[c]}", r, c

    def write_field(
        self,
        well: str,
        field: int | str,
        image: np.ndarray,
        *,
        labels: dict[str, np.ndarray] | None = None,
        channel_names: Sequence[str] | None = None,
        channel_colors: Sequence[str | None] | None = None,
        pixel_size: tuple[float, float] | None = None,
        z_step: float | None = None,
    ) -> Path:
        """Write one field (site) of a well atomically, replacing an earlier write of it.

        Parameters
        ----------
        well : str
            Well name, e.g. ``"A01"``.
        field : int or str
            Field path, 0-based (site ``n`` is field ``n - 1``).
        image : ndarray
            ``(t, c, z, y, x)``.
        labels : dict of str to ndarray, optional
            Label images ``(t, 1, z, y, x)`` (integers), stored under ``labels/<name>``.
        channel_names, channel_colors : sequence of str, optional
            Per channel; colours as ``RRGGBB`` hex or names (defaults by channel).
        pixel_size : (float, float), optional
            ``(y, x)`` pixel size in micrometres; unknown leaves the unit out.
        z_step : float, optional
            Distance between z-planes in micrometres.

        Returns
        -------
        Path
            The field's folder.
        """
        image = np.asarray(image)
        if image.ndim != 5:
            raise InputError(f"a field image is (t, c, z, y, x); got shape {image.shape}")
        field = _field_path(field)
        path, _, _ = self.well_path(well)
        well_dir = self.path / path
        ensure_group(well_dir.parent, ngff=self.ngff)
        ensure_group(well_dir, ngff=self.ngff)
        y, x = pixel_size if pixel_size is not None else (1.0, 1.0)
        scale = [1.0, 1.0, float(z_step or 1.0), float(y), float(x)]
        # NGFF needs a scale per axis: an unrecorded z spacing is written 1.0 without a unit
        unit: str | dict | None = None
        if pixel_size is not None:
            unit = "micrometer" if z_step else {"y": "micrometer", "x": "micrometer"}
        tmp = new_tmp_dir(well_dir, field)
        try:
            write_image_group(
                tmp,
                image,
                labels,
                axes="tczyx",
                scale=scale,
                ngff=self.ngff,
                compressor=self.compressor,
                levels=self.levels,
                spatial_unit=unit,
                shards=self.shards,
                channel_names=channel_names,
                channel_colors=channel_colors,
            )
            swap_into_place(tmp, well_dir / field)
        except OSError as exc:
            raise RunError(f"cannot write well {well} field {field} to {well_dir}: {exc}") from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return well_dir / field

    def finish_well(self, well: str, fields: int | Sequence[int | str]) -> None:
        """Write the well's metadata and add it to the plate's ``wells`` list (atomically).

        Parameters
        ----------
        well : str
            Well name.
        fields : int or sequence of int or str
            The well's field paths, or their count ``n`` (fields ``0`` .. ``n - 1``).

        Raises
        ------
        RunError
            If a listed field was never written.
        """
        if isinstance(fields, (int, np.integer)):
            fields = list(range(int(fields)))
        paths = [_field_path(f) for f in fields]
        if not paths:
            raise RunError(f"well {well} has no fields to finish")
        path, r, c = self.well_path(well)
        well_dir = self.path / path
        for field in paths:
            if read_group_attrs(well_dir / field) is None:
                raise RunError(f"well {well}: field {field} was not written ({well_dir / field})")
        remove_stale_tmp(well_dir)
        write_group(
            well_dir,
            meta.wrap(self.ngff, {"well": meta.well_metadata(self.ngff, paths)}),
            ngff=self.ngff,
        )
        wells, field_count = self._finished()
        wells = {p: (p, ri, ci) for p, ri, ci in wells}
        wells[path] = (path, r, c)
        ordered = sorted(wells.values(), key=lambda w: (w[1], w[2]))
        write_group(
            self.path, self._plate_attrs(ordered, max(field_count, len(paths))), ngff=self.ngff
        )

    def _finished(self) -> tuple[list[tuple[str, int, int]], int]:
        attrs = read_group_attrs(self.path) or {}
        plate = meta.unwrap(attrs)[0].get("plate") or {}
        wells = [(w["path"], w["rowIndex"], w["columnIndex"]) for w in plate.get("wells", [])]
        return wells, int(plate.get("field_count") or 0)

    def finished_wells(self) -> list[str]:
        """Names of the wells listed in the plate (finished), e.g. ``["A01", "B03"]``."""
        return [well_name(r + 1, c + 1) for _, r, c in self._finished()[0]]


def _names(spec: int | Sequence[str], namer) -> list[str]:
    if isinstance(spec, (int, np.integer)):
        if spec < 1:
            raise InputError(f"a plate needs at least one row and one column, not {spec}")
        return [namer(i) for i in range(1, int(spec) + 1)]
    names = [str(s) for s in spec]
    if not names or not all(n.isalnum() for n in names) or len(set(names)) != len(names):
        raise InputError(f"row and column names must be unique and alphanumeric: {names}")
    return names


def _field_path(field: int | str) -> str:
    text = str(int(field)) if isinstance(field, (int, np.integer)) else str(field)
    if not text.isdigit():
        raise InputError(f"field {field!r} must be a number (0 for site 1)")
    return text


def read_layout(path: str | Path) -> dict | None:
    """The layout of an existing plate (ours or any OME-Zarr plate), ``None`` if none.

    Returns
    -------
    dict or None
        ``ngff``, ``rows``, ``columns`` (names) and ``name``, as the writer keeps them.

    Raises
    ------
    InputError
        If ``path`` holds unreadable Zarr metadata, or a Zarr group that is not a plate.
    """
    path = Path(path)
    try:
        attrs = read_group_attrs(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable Zarr metadata ({exc})") from exc
    if attrs is None:
        return None
    own = attrs.get(OWN_KEY, {}).get("layout")
    if own:
        return dict(own)
    body, version = meta.unwrap(attrs)
    plate = body.get("plate")
    if not plate:
        raise InputError(f"{path} is a Zarr group but not an OME-Zarr plate")
    return {
        "ngff": version,
        "rows": [r["name"] for r in plate["rows"]],
        "columns": [c["name"] for c in plate["columns"]],
        "name": plate.get("name"),
    }
