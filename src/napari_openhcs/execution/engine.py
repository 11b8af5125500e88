"""The step engine: planes in, each step's planes out. Runs, previews and plate steps use it.

Planes are kept in a dict keyed by ``ImageKey`` (in whatever memory type the last function
returned); each step groups them by the components it does not stack, runs its pattern on
each ``(n, y, x)`` stack and puts the results back under the right keys. Nothing is cast or
written here: :func:`run_steps` yields every step's output as it is computed, and its callers
decide what to keep (a work unit writes fields and tables, the preview shows layers, a plate
step saves one plane per group).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from napari_openhcs import tables
from napari_openhcs.errors import PipelineError
from napari_openhcs.memory.planes import stack_planes
from napari_openhcs.pipeline.workunits import CompiledStep, chain_pairs, plate_step_name
from napari_openhcs.plates.index import ImageKey
from napari_openhcs.vocabulary import image_ref

Planes = dict[ImageKey, Any]

#: Components a step may stack, in the order planes of a group are sorted by.
_COMPONENTS = ("site", "channel", "z", "timepoint")


class StepFailed(Exception):
    """Carries where a unit failed (step, function) around the original exception."""

    def __init__(self, step: str, function: str | None, exc: BaseException):
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.step, self.function, self.original = step, function, exc


class StepOutput(NamedTuple):
    """One step's output: its planes, their kinds and the tables it measured.

    ``kinds`` maps each key to ``"image"``, ``"labels"`` or ``"mask"``; ``tables`` is a list
    of ``(group, table)``, ``group`` naming the components of the stack that was measured
    (e.g. ``{"site": 1, "channel": 1, "timepoint": 1}``), ``table`` a column dict.
    """

    step: CompiledStep
    planes: Planes
    kinds: dict
    tables: list[tuple[dict, Any]]


def run_steps(
    steps: Iterable[CompiledStep], raw: Planes, plate_results: dict | None = None
) -> Iterator[StepOutput]:
    """Run ``steps`` in order on the raw planes ``raw``; yields each step's output.

    A step with ``input_source="start"`` takes the raw planes, any other the previous step's
    output. Outputs that a later step names as an image (``{"image": "<step>"}``) are kept for
    it; the others are dropped as soon as the next step has run. ``plate_results`` maps a
    plate step's name to ``load_plate_result(path)``; it is read when a step needs it, so a
    caller may fill it between steps. A step runs when the next output is asked for; a
    failure raises :class:`StepFailed` naming the step and the function.

    Examples
    --------
    >>> for out in run_steps(unit.steps, raw):  # doctest: +SKIP
    ...     print(out.step.name, len(out.planes))
    """
    steps = list(steps)
    results = {} if plate_results is None else plate_results
    raw_kinds = {k: "image" for k in raw}
    kept = referenced_images(steps)
    outputs: dict[str, Planes] = {"start": raw}
    planes, kinds = raw, raw_kinds
    for step in steps:
        if step.input_source == "start":
            planes, kinds = raw, raw_kinds
        planes, kinds, found = _run_step(step, planes, kinds, results, outputs)
        if step.name in kept:
            outputs[step.name] = planes
        yield StepOutput(step, planes, kinds, found)


def referenced_images(steps: Iterable[CompiledStep]) -> set[str]:
    """Names of the steps whose output a later step takes as an image argument."""
    return {
        ref["image"]
        for step in steps
        for _, kwargs in chain_pairs(step)
        for value in kwargs.values()
        if (ref := image_ref(value)) is not None
    }


def run_chain(
    chain, stack, whole_volume: bool, step: str, group=(), plate_results=None, images=None
):
    """Run a resolved chain; returns (result stack, output kind, special outputs list).

    Keyword values ``{"plate_step": name}`` become the plate step's plane for ``group``;
    image references (``{"image": source, ...}``) become stacks through
    ``images.resolve(kwargs, stack)`` (an ``ImageSources``).
    """
    specials: list[tuple[str, Any]] = []
    kind = None
    for func, kwargs in chain:
        try:
            kwargs = _with_plate_results(kwargs, dict(group), plate_results or {})
            if images is not None:
                kwargs = images.resolve(kwargs, stack)
            out = func(stack, whole_volume=whole_volume, **kwargs)
        except Exception as exc:  # noqa: BLE001 - re-raised with the step and function
            raise StepFailed(step, func.ref, exc) from exc
        if isinstance(out, tuple):
            stack = out[0]
            names = func.special_outputs or tuple(f"output{i}" for i in range(1, len(out)))
            specials.extend(zip(names, out[1:], strict=False))
        else:
            stack = out
        kind = func.output_kind
    return stack, kind, specials


class ImageSources:
    """Resolves image references of one group of planes to stacks.

    ``{"image": "previous"}`` is the stack the function receives; with ``"channel": c`` it
    is the step's input planes of channel ``c``. ``"start"`` is the raw plate images and any
    other name an earlier step's output (``outputs``). Planes are matched to the group's
    ``keys`` on site, z and timepoint, and on channel unless one is given.
    """

    def __init__(self, keys: list[ImageKey], step_input: Planes, outputs: dict[str, Planes]):
        self.keys, self.step_input, self.outputs = keys, step_input, outputs

    def resolve(self, kwargs: dict, stack: Any) -> dict:
        """``kwargs`` with every image reference replaced by its stack."""
        resolved = dict(kwargs)
        for name, value in kwargs.items():
            ref = image_ref(value)
            if ref is not None:
                resolved[name] = self.stack(ref, stack)
        return resolved

    def stack(self, ref: dict, current: Any) -> Any:
        """The stack an image reference names, matched to this group's planes."""
        source, channel = ref["image"], ref.get("channel")
        if source == "previous" and channel is None:
            return current
        pool = self.step_input if source == "previous" else self.outputs.get(source)
        if pool is None:
            raise PipelineError(f"image {ref}: no step {source!r} ran before this one")
        wanted = [k if channel is None else k._replace(channel=int(channel)) for k in self.keys]
        missing = [w for w in wanted if w not in pool]
        if missing:
            m = missing[0]
            have = sorted({(k.channel, k.z) for k in pool if k.site == m.site})
            raise PipelineError(
                f"image {ref}: no plane for site {m.site}, channel {m.channel}, z {m.z}, "
                f"timepoint {m.timepoint} (that source has channel, z {have}); a source that "
                "was projected matches only steps after the same projection"
            )
        return stack_planes([pool[w] for w in wanted])


def _group(planes: Planes, stacked: tuple[str, ...]) -> dict[tuple, list[ImageKey]]:
    groups: dict[tuple, list[ImageKey]] = defaultdict(list)
    for key in planes:
        d = key._asdict()
        groups[tuple((c, d[c]) for c in _COMPONENTS if c not in stacked)].append(key)
    for keys in groups.values():
        keys.sort(key=lambda k: tuple(k._asdict()[c] for c in stacked))
    return groups


def _run_step(
    step: CompiledStep, planes: Planes, kinds: dict, plate_results: dict, outputs: dict
) -> tuple[Planes, dict, list]:
    """Apply one step to every group of planes; returns new planes, kinds and tables."""
    stacked = step.variable_components
    whole = "z" in stacked
    out: Planes = {}
    out_kinds: dict = {}
    found: list[tuple[dict, Any]] = []
    groups_pattern = dict(step.pattern) if step.group_by else None
    for group, keys in _group(planes, stacked).items():
        if groups_pattern is not None:
            value = str(keys[0]._asdict()[step.group_by])
            chain = groups_pattern.get(value)
            if chain is None:  # values the dict does not name pass through unchanged
                for k in keys:
                    out[k], out_kinds[k] = planes[k], kinds.get(k, "image")
                continue
        else:
            chain = step.pattern
        stack = stack_planes([planes[k] for k in keys])
        images = ImageSources(keys, planes, outputs)
        result, kind, specials = run_chain(
            chain, stack, whole, step.name, group, plate_results, images
        )
        n_in, n_out = len(keys), int(result.shape[0]) if result.ndim == 3 else 1
        if result.ndim == 2:
            result = result[None]
        if n_out == n_in:
            new_keys = keys
        elif n_out == 1:
            first = keys[0]._asdict()
            for c in stacked:
                first[c] = min(k._asdict()[c] for k in keys)
            new_keys = [ImageKey(**first)]
        else:
            raise StepFailed(
                step.name,
                chain[-1][0].ref,
                PipelineError(
                    f"returned {n_out} planes for a stack of {n_in}; a step must keep the stack "
                    "or reduce it to one plane"
                ),
            )
        for i, k in enumerate(new_keys):
            out[k], out_kinds[k] = result[i], kind
        found.extend((dict(group), value) for _, value in specials if tables.is_table(value))
    return out, out_kinds, found


def _with_plate_results(kwargs: dict, group: dict, plate_results: dict) -> dict:
    resolved = dict(kwargs)
    for key, value in kwargs.items():
        name = plate_step_name(value)
        if name is None:
            continue
        groups, planes = plate_results[name]
        matches = [
            i
            for i, g in enumerate(groups)
            if all(c in group and str(group[c]) == str(v) for c, v in g.items())
        ]
        if len(matches) != 1:
            raise PipelineError(
                f"no single result of plate step {name!r} for {group or 'this stack'} "
                f"(it has {groups}); group both steps by the same components"
            )
        resolved[key] = planes[matches[0]]
    return resolved
