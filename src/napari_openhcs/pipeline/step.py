"""``Step`` and ``Pipeline``: what a user builds, in the dock, in JSON or in Python.

A step's ``func`` is a *function pattern*: a registered function (a ``FunctionRef`` or its
reference string), ``(function, kwargs)``, a list of those (a chain run in order), or a dict
keyed by the value of the step's ``group_by`` component (one chain per channel, say; values
the dict does not name pass through unchanged).
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from napari_openhcs.errors import PipelineError
from napari_openhcs.pipeline.dtypes import check_output_dtype
from napari_openhcs.plates.index import COMPONENTS
from napari_openhcs.registry import ref_of

#: Components a step may stack or group by (a unit never spans wells).
STEP_COMPONENTS = tuple(c for c in COMPONENTS if c != "well")


def normalize_chain(pattern: Any) -> list[tuple[str, dict]]:
    """A chain as ``[(ref, kwargs), ...]`` from any single/tuple/list form."""
    if isinstance(pattern, list):
        chain = []
        for item in pattern:
            chain.extend(normalize_chain(item))
        if not chain:
            raise PipelineError("an empty function chain")
        return chain
    if isinstance(pattern, tuple):
        if len(pattern) != 2 or not isinstance(pattern[1], dict):
            raise PipelineError(f"a (function, kwargs) pair was expected, got {pattern!r}")
        return [(ref_of(pattern[0]), dict(pattern[1]))]
    return [(ref_of(pattern), {})]


def normalize_pattern(pattern: Any) -> list[tuple[str, dict]] | dict[str, list[tuple[str, dict]]]:
    """A chain, or ``{group value (str): chain}`` for dict patterns."""
    if isinstance(pattern, dict):
        if not pattern:
            raise PipelineError("an empty group pattern")
        return {str(k): normalize_chain(v) for k, v in pattern.items()}
    return normalize_chain(pattern)


@dataclass(kw_only=True)
class StepSettings:
    """The settings of a step besides its function: the one definition of these fields, their
    defaults and their meaning (the JSON format and the dock's step model derive from it).

    Parameters
    ----------
    name : str, optional
        Shown in the dock and used for output names (default: the last function's name).
    variable_components : list of str
        What each call stacks along its first axis (default ``["z"]``: each call gets the
        z-stack of one site, channel and timepoint).
    group_by : str, optional
        The component whose value selects the chain of a dict pattern (e.g. ``"channel"``).
    input_source : {"previous", "start"}
        Run on the previous step's output (default) or on the raw plate images.
    materialize : bool
        Write this step's output (labels under ``labels/``; images into their own plate).
    enabled : bool
        Disabled steps are kept in the pipeline but skipped.
    scope : {"unit", "plate"}
        ``"plate"``: run once for the whole plate, before the units, on the raw images of
        (a sample of) all wells stacked together (see ``workunits.PlateStepJob``); later steps
        receive its result through a keyword argument ``{"plate_step": "<this step's name>"}``.
    output_dtype : str
        ``"keep"``, ``"plate"`` (the plate's dtype, range-aware) or a NumPy dtype name.
    """

    name: str | None = None
    variable_components: list[str] = field(default_factory=lambda: ["z"])
    group_by: str | None = None
    input_source: str = "previous"
    materialize: bool = False
    enabled: bool = True
    scope: str = "unit"
    output_dtype: str = "keep"


def setting_defaults() -> dict[str, Any]:
    """``{field: default}`` of every step setting but ``name``, in declaration order.

    >>> setting_defaults()["variable_components"], setting_defaults()["scope"]
    (['z'], 'unit')
    """
    out = {}
    for f in fields(StepSettings):
        if f.name != "name":
            out[f.name] = f.default_factory() if f.default is MISSING else f.default
    return out


def settings_of(obj: Any) -> dict[str, Any]:
    """Every step setting (``name`` included) of a ``Step`` or anything with those fields."""
    return {f.name: getattr(obj, f.name) for f in fields(StepSettings)}


@dataclass
class Step(StepSettings):
    """One step of a pipeline: a function pattern and its settings (see ``StepSettings``).

    Parameters
    ----------
    func : pattern
        See the module docstring. The settings are keyword arguments.
    """

    func: Any

    def __post_init__(self) -> None:
        self.variable_components = list(self.variable_components)
        self.pattern = normalize_pattern(self.func)
        if self.name is None:
            chain = (
                self.pattern
                if isinstance(self.pattern, list)
                else next(iter(self.pattern.values()))
            )
            self.name = chain[-1][0].rsplit(".", 1)[-1]
        bad = [c for c in self.variable_components if c not in STEP_COMPONENTS]
        if bad:
            raise PipelineError(
                f"step {self.name!r}: unknown variable component(s) {bad}; "
                f"choose from {', '.join(STEP_COMPONENTS)}"
            )
        if self.group_by is not None:
            if self.group_by not in STEP_COMPONENTS:
                raise PipelineError(
                    f"step {self.name!r}: group_by {self.group_by!r} is not one "
                    f"of {', '.join(STEP_COMPONENTS)}"
                )
            if self.group_by in self.variable_components:
                raise PipelineError(
                    f"step {self.name!r}: group_by {self.group_by!r} cannot "
                    "also be a variable component"
                )
        if isinstance(self.pattern, dict) and self.group_by is None:
            raise PipelineError(f"step {self.name!r}: a dict pattern needs group_by")
        if self.input_source not in ("previous", "start"):
            raise PipelineError(
                f"step {self.name!r}: input_source must be 'previous' or "
                f"'start', got {self.input_source!r}"
            )
        if self.scope not in ("unit", "plate"):
            raise PipelineError(f"step {self.name!r}: scope must be 'unit' or 'plate'")
        try:
            check_output_dtype(self.output_dtype)
        except PipelineError as exc:
            raise PipelineError(f"step {self.name!r}: {exc}") from None

    def __eq__(self, other: object) -> bool:
        # what the JSON format saves: the normalised pattern and the settings
        return (
            isinstance(other, Step)
            and self.pattern == other.pattern
            and settings_of(self) == settings_of(other)
        )


@dataclass
class Pipeline:
    """An ordered list of steps with a name."""

    steps: list[Step]
    name: str = "pipeline"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pipeline) and self.name == other.name and self.steps == other.steps
