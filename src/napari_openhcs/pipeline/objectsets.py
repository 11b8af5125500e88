"""Object sets: the labels a step makes, which later steps name as ``{"objects": step}``.

The compiler tracks what each enabled per-well step's result is in every channel (``image``,
``labels`` or ``mask``: the last function of the channel's chain decides, and a channel the
step passes through keeps its input's kind). With that, before any pixel is read:

- :func:`resolve_objects` checks every objects parameter (``ParamSpec.annotation ==
  "objects"``, from ``declare(object_params=...)``) and resolves ``{"objects": name}`` into
  the image reference the engine reads, ``{"image": name, "channel": c}``, ``c`` being the
  one channel in which ``name`` makes labels (or the ``"channel"`` the reference gives). An
  image reference given to an objects parameter (pipelines written before object sets) is
  accepted when it points at labels.
- :func:`name_measurements` gives a measuring function (special output ``measurements``,
  parameters ``compartment`` and ``channels``: ``measure_cells`` on every backend) the names
  its features carry when the step leaves them out: the compartment named after the step
  (``nuclei``: ``Nuclei``) and the plate's name of the channel its ``intensity`` reads
  (``storage.profiles.channel_feature_names``), so features read
  ``Nuclei_Intensity_MeanIntensity_DAPI``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from napari_openhcs.errors import PipelineError, UnknownFunctionError
from napari_openhcs.pipeline.workunits import CompiledStep
from napari_openhcs.plates.index import PlateIndex
from napari_openhcs.registry import get_info
from napari_openhcs.storage.names import channel_feature_names, compartment_name, is_name_part
from napari_openhcs.vocabulary import image_ref, objects_ref

LABELS = "labels"
#: The kind of a channel whose groups give different kinds (a step grouped by site, say).
MIXED = "mixed"
_ARTICLE = {"image": "an image", "mask": "a mask", MIXED: "not labels in every group"}


def _is_grouped(pattern: tuple) -> bool:
    """Whether a resolved pattern is ``((group value, chain), ...)``."""
    return bool(pattern) and isinstance(pattern[0][0], str)


def _chain_kind(chain: tuple, given: str) -> str:
    return chain[-1][0].output_kind if chain else given


@dataclass
class ResultKinds:
    """What the plate's images and each enabled per-well step's result are, per channel.

    ``steps`` maps a step name to ``{channel (str): kind}``, in step order; ``last`` is the
    latest step's (the input of a step whose ``input_source`` is ``"previous"``).
    """

    index: PlateIndex
    steps: dict[str, dict[str, str]] = field(default_factory=dict)
    last: dict[str, str] | None = None

    @property
    def raw(self) -> dict[str, str]:
        """The plate's images: an image in every channel."""
        return {str(c): "image" for c in self.index.channels}

    def input_of(self, step) -> dict[str, str]:
        """The kinds a step receives (the plate's images, or the previous step's result)."""
        return self.raw if step.input_source == "start" or self.last is None else self.last

    def add(self, step: CompiledStep) -> None:
        """Record what the per-well ``step`` (compiled, after the steps added so far) gives."""
        given = self.input_of(step)
        if not _is_grouped(step.pattern):
            kind = _chain_kind(step.pattern, None)
            kinds = {c: kind or k for c, k in given.items()}
        elif step.group_by == "channel":
            chains = dict(step.pattern)
            kinds = {c: _chain_kind(chains[c], k) if c in chains else k for c, k in given.items()}
        else:
            values = {str(v) for v in getattr(self.index, _PLURAL[step.group_by])}
            chains = dict(step.pattern)
            passes = bool(values - set(chains))
            kinds = {}
            for c, k in given.items():
                found = {_chain_kind(chain, k) for chain in chains.values()} | (
                    {k} if passes else set()
                )
                kinds[c] = found.pop() if len(found) == 1 else MIXED
        self.steps[step.name] = kinds
        self.last = kinds

    def object_sets(self) -> str:
        """The object sets so far, for messages: ``nuclei (channel 1), cells (channel 2)``."""
        found = [
            f"{name} (channel {', '.join(c for c, k in kinds.items() if k == LABELS)})"
            for name, kinds in self.steps.items()
            if LABELS in kinds.values()
        ]
        return ", ".join(found) if found else "none: no step before it makes labels"


_PLURAL = {"site": "sites", "channel": "channels", "z": "z", "timepoint": "timepoints"}


def object_set_choices(steps, index: PlateIndex, before: int) -> list[dict]:
    """The values an objects parameter of ``steps[before]`` may take: ``{"objects": name}``
    for every enabled per-well step before it with labels in one channel, with a
    ``"channel"`` for each of several (what the dock offers; no pixel is read).

    ``steps`` are the pipeline's ``Step`` s (uncompiled); a function the registry does not
    know counts as giving an image.

    Examples
    --------
    >>> object_set_choices(pipeline.steps, index, 2)  # doctest: +SKIP
    [{'objects': 'nuclei'}]
    """
    kinds = ResultKinds(index)
    for step in steps[:before]:
        if step.enabled and step.scope != "plate":
            kinds.add(_declared(step))
    choices: list[dict] = []
    for name, made in kinds.steps.items():
        labelled = [c for c, k in made.items() if k == LABELS]
        if len(labelled) == 1:
            choices.append({"objects": name})
        else:
            choices += [{"objects": name, "channel": _plate_channel(index, c)} for c in labelled]
    return choices


def _declared(step) -> SimpleNamespace:
    """A ``Step`` as ``ResultKinds.add`` reads it: each function by its declared output kind."""

    def chain(pairs) -> tuple:
        out = []
        for ref, kwargs in pairs:
            try:
                kind = get_info(ref).output_kind
            except UnknownFunctionError:
                kind = "image"
            out.append((SimpleNamespace(output_kind=kind), kwargs))
        return tuple(out)

    pattern = step.pattern
    if isinstance(pattern, dict):
        pattern = tuple((str(k), chain(v)) for k, v in pattern.items())
    else:
        pattern = chain(pattern)
    return SimpleNamespace(
        name=step.name, pattern=pattern, group_by=step.group_by, input_source=step.input_source
    )


def resolve_objects(step, pattern: tuple, kinds: ResultKinds) -> tuple:
    """``pattern`` with every ``{"objects": name}`` resolved to ``{"image": name, "channel":
    c}``, after checking every objects parameter names labels of an earlier per-well step.

    Raises
    ------
    PipelineError
        An unknown object set, a step whose result is no labels, a step with labels in no
        or several channels when no channel is given, an image reference to no labels.
    """
    if _is_grouped(pattern):
        by_channel = step.group_by == "channel"
        return tuple(
            (key, _resolve_chain(step, chain, kinds, key if by_channel else None))
            for key, chain in pattern
        )
    return _resolve_chain(step, pattern, kinds, None)


def _resolve_chain(step, chain: tuple, kinds: ResultKinds, group: str | None) -> tuple:
    resolved = []
    for func, kwargs in chain:
        specs = {p.name: p for p in get_info(func.ref).params}
        new = dict(kwargs)
        for key, value in kwargs.items():
            spec = specs.get(key)
            if spec is None or spec.annotation != "objects":
                continue
            where = f"step {step.name!r}: {func.ref} parameter {key!r}"
            if objects_ref(value) is not None:
                new[key] = _resolve_ref(where, value, kinds)
            elif image_ref(value) is not None:
                _check_image_is_labels(where, image_ref(value), step, kinds, group)
        resolved.append((func, new))
    return tuple(resolved)


def _resolve_ref(where: str, value: dict, kinds: ResultKinds) -> dict:
    name, channel = objects_ref(value), value.get("channel")
    made = kinds.steps.get(name)
    if made is None:
        raise PipelineError(
            f"{where} asks for object set {name!r}, which is not an enabled per-well step "
            f"before it (object sets before it: {kinds.object_sets()})"
        )
    labelled = [c for c, k in made.items() if k == LABELS]
    if channel is not None:
        kind = made.get(str(channel))
        if kind is None:
            raise PipelineError(
                f"{where} asks for object set {name!r} in channel {channel!r}, which the plate "
                f"does not have (it has {', '.join(made)})"
            )
        if kind != LABELS:
            raise PipelineError(
                f"{where} asks for object set {name!r} in channel {channel}, where step "
                f"{name!r} gives {_ARTICLE.get(kind, kind)}, not labels"
                + (f" (its labels are in channel {', '.join(labelled)})" if labelled else "")
            )
        return {"image": name, "channel": _plate_channel(kinds.index, str(channel))}
    if not labelled:
        given = sorted({_ARTICLE.get(k, k) for k in made.values()})
        raise PipelineError(
            f"{where} asks for object set {name!r}, but step {name!r} gives "
            f"{' or '.join(given)}, not labels (object sets before it: {kinds.object_sets()})"
        )
    if len(labelled) > 1:
        raise PipelineError(
            f"{where} asks for object set {name!r}, which has labels in channels "
            f"{', '.join(labelled)}: name one, e.g. "
            f'{{"objects": "{name}", "channel": {labelled[0]}}}'
        )
    return {"image": name, "channel": _plate_channel(kinds.index, labelled[0])}


def _plate_channel(index: PlateIndex, channel: str):
    """The plate's own value of a channel given as text."""
    return next((c for c in index.channels if str(c) == channel), channel)


def _check_image_is_labels(where: str, ref: dict, step, kinds: ResultKinds, group) -> None:
    """An image reference given to an objects parameter must point at labels."""
    source, channel = ref["image"], ref.get("channel")
    if source == "start":
        made = kinds.raw
    elif source == "previous":
        made = kinds.input_of(step)
    else:
        made = kinds.steps.get(source)
        if made is None:
            return  # not an earlier step: _check_image_refs says so
    channels = [str(channel)] if channel is not None else ([group] if group else list(made))
    wrong = sorted({made[c] for c in channels if c in made and made[c] != LABELS})
    if wrong:
        raise PipelineError(
            f"{where} takes an object set (labels), but {ref!r} is "
            f"{' or '.join(_ARTICLE.get(k, k) for k in wrong)}, not labels "
            f'(name the objects as {{"objects": "<step>"}}; object sets before it: '
            f"{kinds.object_sets()})"
        )


# -- the names features carry -------------------------------------------------------------


def name_measurements(step, pattern: tuple, index: PlateIndex, notes: list[str]) -> tuple:
    """``pattern`` with ``compartment`` and ``channels`` filled in for measuring functions
    that the step leaves them out of, and every such name checked.

    The compartment is the step's name as a compartment (``cells``: ``Cells``); the channel
    names are the plate's (``PlateIndex.channel_names``, made feature-name parts by
    ``channel_feature_names``; ``C<channel>`` for an unnamed channel) of the channel the
    ``intensity`` image reads: its ``"channel"``, else the step's channel group. Where
    neither says (a step not grouped by channel, on a plate of several channels), the
    channels stay unnamed and a note says so.

    Raises
    ------
    PipelineError
        A compartment or channel name given (or a step name) that is no feature-name part.
    """
    names = channel_feature_names(index.channel_names, index.channels)
    if _is_grouped(pattern):
        by_channel = step.group_by == "channel"
        return tuple(
            (key, _name_chain(step, chain, names, key if by_channel else None, notes))
            for key, chain in pattern
        )
    only = str(index.channels[0]) if len(index.channels) == 1 else None
    return _name_chain(step, pattern, names, only, notes)


def _name_chain(step, chain: tuple, names: dict, group: str | None, notes: list[str]) -> tuple:
    resolved = []
    for func, kwargs in chain:
        info = get_info(func.ref)
        params = {p.name for p in info.params}
        if "measurements" not in info.special_outputs or not {"compartment", "channels"} <= (
            params
        ):
            resolved.append((func, kwargs))
            continue
        where = f"step {step.name!r}: {func.ref}"
        new = dict(kwargs)
        if new.get("compartment") is None:
            new["compartment"] = compartment_name(step.name)
            if not is_name_part(new["compartment"]):
                raise PipelineError(
                    f"{where}: the step's name gives the compartment {new['compartment']!r}, "
                    "which is no feature-name part (letters and digits, a letter first): "
                    "rename the step or give compartment"
                )
        elif not is_name_part(new["compartment"]):
            raise PipelineError(
                f"{where}: compartment {new['compartment']!r} is no feature-name part "
                "(letters and digits, a letter first, no '_')"
            )
        if new.get("channels") is None:
            ref = image_ref(new.get("intensity")) or {}
            channel = ref.get("channel")
            channel = str(channel) if channel is not None else group
            if channel is not None and any(str(c) == channel for c in names):
                new["channels"] = (next(n for c, n in names.items() if str(c) == channel),)
            else:
                notes.append(
                    f"{where}: the channel its intensity reads is known only per group; its "
                    'features name it C1 (give "channels", or an intensity "channel")'
                )
        else:
            given = new["channels"]
            given = [given] if isinstance(given, str) else list(given)
            bad = [n for n in given if not is_name_part(n)]
            if bad:
                raise PipelineError(
                    f"{where}: channel name(s) {', '.join(map(repr, bad))} are no feature-name "
                    "parts (letters and digits, a letter first, no '_')"
                )
        resolved.append((func, new))
    return tuple(resolved)
