"""Frozen, picklable work units: what the compiler produces and every executor runs.

A unit holds function references (``FunctionRef``, pickling by name), plain values and file
locators, never live objects, so it crosses to a spawn worker or a Dask worker unchanged.
The helpers below read compiled steps; workers use them without importing the compiler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from napari_openhcs.plates.index import ImageKey
from napari_openhcs.storage.layout import OutputSpec


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
class PlateStepJob:
    """A ``scope="plate"`` step, run once before the units by ``run_plate_step``.

    It reads the raw planes of ``images`` (a sample of wells), stacks wells and sites (plus the
    step's ``variable_components``) and runs the step once per remaining group (e.g. per
    channel); each call must return one plane. The result is saved as ``result_path``
    (``<out>/.openhcs/plate_steps/<step>.npy``, one plane per group) with a JSON sidecar naming
    the groups. Later unit steps receive it through a keyword argument written
    ``{"plate_step": "<step>"}``: the plane of the matching group (e.g. the same channel).
    """

    run_id: str
    step: CompiledStep
    plate_format: str
    images: tuple
    result_path: str

    @property
    def step_name(self) -> str:
        return self.step.name


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
    format (``None`` when nothing was measured); ``single_cells`` the unit's objects in the
    single-cell layout (``None`` without objects) and ``images`` its rows of the image table
    (``execution.celltables``)."""

    well: str
    site: int | None
    ok: bool
    error: UnitError | None = None
    measurements: Any = None
    single_cells: Any = None
    images: Any = None
    aggregates: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    gpu: int | None = None


def pattern_pairs(pattern: tuple) -> list:
    """Every ``(FunctionRef, kwargs)`` of a resolved pattern: a chain, or the chains of all
    groups of a dict pattern (``((group value, chain), ...)``)."""
    if pattern and isinstance(pattern[0][0], str):
        return [pair for _, chain in pattern for pair in chain]
    return list(pattern)


def chain_pairs(step: CompiledStep) -> list:
    """Every ``(FunctionRef, kwargs)`` of a compiled step (all groups of a dict pattern)."""
    return pattern_pairs(step.pattern)


def keeps_images(step: CompiledStep, last: str) -> bool:
    """Whether a step gets its own ``<plate>_<step>.ome.zarr``: materialised, per well, not
    the last step, and its functions give images (channels passed through unchanged do not
    count: they are the earlier step's images, already in the main plate)."""
    pairs = chain_pairs(step)
    return bool(
        step.materialize
        and step.scope == "unit"
        and step.name != last
        and pairs
        and pairs[-1][0].output_kind == "image"
    )


def plate_step_name(value: Any) -> str | None:
    """The plate step named by a keyword value ``{"plate_step": name}``, else ``None``.

    Examples
    --------
    >>> plate_step_name({"plate_step": "flat"})
    'flat'
    >>> plate_step_name(2.0) is None
    True
    """
    if isinstance(value, dict) and set(value) == {"plate_step"}:
        return str(value["plate_step"])
    return None
