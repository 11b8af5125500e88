"""Frozen, picklable work units: what the compiler produces and every executor runs.

A unit holds function references (``FunctionRef``, pickling by name), plain values and file
locators, never live objects, so it crosses to a spawn worker or a Dask worker unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from napari_openhcs.plates.index import ImageKey


@dataclass(frozen=True)
class CompiledStep:
    """One enabled step, validated and resolved.

    ``pattern`` is the resolved function pattern: a tuple of ``(FunctionRef, kwargs)`` pairs
    (a chain; one pair for a single function), or, for a step with ``group_by``, a tuple of
    ``(group_value, chain)`` pairs. ``scope`` is ``"unit"`` or ``"plate"``.
    """

    name: str
    pattern: tuple
    variable_components: tuple[str, ...] = ("z",)
    group_by: str | None = None
    input_source: str = "previous"
    materialize: bool = False
    scope: str = "unit"
    output_dtype: str = "keep"


@dataclass(frozen=True)
class OutputSpec:
    """Where and how a run writes: ``<out_dir>/<plate_name>.ome.zarr`` and measurements."""

    out_dir: str
    plate_name: str
    ngff: str = "0.5"
    compressor: str = "lz4"
    rows: int = 8
    columns: int = 12
    channel_names: tuple[tuple[int, str], ...] = ()
    pixel_size: tuple[float, float] | None = None
    plate_dtype: str | None = None
    #: one file per field (Zarr v3 sharding, NGFF 0.5) instead of one per plane
    shards: bool = False


@dataclass(frozen=True)
class WorkUnit:
    """A well, or a (well, site) when no step needs more than one site."""

    run_id: str
    plate_format: str
    plate_root: str
    well: str
    site: int | None
    images: tuple[tuple[ImageKey, str], ...]
    steps: tuple[CompiledStep, ...]
    output: OutputSpec
    gpu: int | None = None
    plate_results: tuple[tuple[str, str], ...] = ()  # (step name, path of its saved result)

    @property
    def label(self) -> str:
        return self.well if self.site is None else f"{self.well} site {self.site}"


@dataclass
class UnitError:
    """Why a unit failed: where, in which function, and the original traceback."""

    well: str
    site: int | None
    step: str | None
    function: str | None
    message: str
    traceback: str = ""
    errno: int | None = None


@dataclass
class UnitResult:
    """What a unit produced. ``measurements`` is a ``pyarrow.Table`` in the long measurement
    format (``None`` when nothing was measured)."""

    well: str
    site: int | None
    ok: bool
    error: UnitError | None = None
    measurements: Any = None
    aggregates: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    gpu: int | None = None
