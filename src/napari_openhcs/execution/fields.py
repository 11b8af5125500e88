"""A unit's fields: gathered from the steps' outputs, assembled into arrays, written.

The main plate shows the newest image planes of each (site, channel, timepoint), with the
labels of every materialised step (and of the last step) beneath them, each labels plane
once, under the step that made it (a step that passes an earlier step's written labels
through unchanged, as a ``group_by`` step does for the groups it does not name, does not
write them again); a materialised image
step that is not the last gets its own plate (``keeps_images``). Planes are cast to their
step's ``output_dtype`` only here, when they are written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from napari_openhcs.errors import PipelineError
from napari_openhcs.memory import to_numpy
from napari_openhcs.pipeline.dtypes import cast_for_output
from napari_openhcs.pipeline.workunits import CompiledStep, WorkUnit, keeps_images
from napari_openhcs.storage.layout import open_output_plates

Planes = dict[Any, Any]


class UnitFields:
    """What a unit writes, gathered step by step from the engine's outputs.

    Parameters
    ----------
    raw : dict
        The unit's raw planes (what the main plate shows where no step made images).
    last : str
        Name of the unit's last step (its labels are always written, its images are the
        main plate's).
    """

    def __init__(self, raw: Planes, last: str):
        self.last = last
        # The latest image planes of each (site, channel, timepoint): what the main plate shows.
        self.latest: dict[tuple, tuple[dict, str]] = {}
        self.labels_steps: list[tuple[str, Planes]] = []
        self.intermediate: list[tuple[str, Planes, str]] = []
        # The label planes already written under an earlier step's name (held in
        # labels_steps, so their ids stay unique): passed through a later step unchanged,
        # they are not written again under its name.
        self._written: set[int] = set()
        _update_latest(self.latest, raw, {k: "image" for k in raw}, "keep")

    def add(self, step: CompiledStep, planes: Planes, kinds: dict) -> None:
        """Take what ``step``'s output adds to the fields."""
        _update_latest(self.latest, planes, kinds, step.output_dtype)
        images = {k: v for k, v in planes.items() if kinds[k] == "image"}
        labelled = {
            k: v
            for k, v in planes.items()
            if kinds[k] in ("labels", "mask") and id(v) not in self._written
        }
        if images and keeps_images(step, self.last):  # the plates the compiler planned
            self.intermediate.append((step.name, images, step.output_dtype))
        if labelled and (step.materialize or step.name == self.last):
            self.labels_steps.append((step.name, labelled))
            self._written.update(id(v) for v in labelled.values())

    def write(self, unit: WorkUnit) -> dict:
        """Write every field of ``unit``; returns its aggregates (``fields``, ``object_count``)."""
        image_planes = {k: v for by_key, _ in self.latest.values() for k, v in by_key.items()}
        image_rule = next((rule for _, rule in self.latest.values() if rule != "keep"), "keep")
        return write_fields(unit, image_planes, image_rule, self.labels_steps, self.intermediate)


def _update_latest(latest: dict, planes: Planes, kinds: dict, rule: str) -> None:
    """Track the newest image planes of each (site, channel, timepoint) for the main plate.

    A group a step turned into labels keeps its last image (shown under its labels); a group
    that no longer exists at all (e.g. channels stacked and reduced to one) is dropped.
    """
    present = {(k.site, k.channel, k.timepoint) for k in planes}
    for group in [g for g in latest if g not in present]:
        del latest[group]
    fresh: dict[tuple, dict] = {}
    for k, v in planes.items():
        if kinds.get(k) == "image":
            fresh.setdefault((k.site, k.channel, k.timepoint), {})[k] = v
    for group, by_key in fresh.items():
        old = latest.get(group)
        if (
            old is None
            or any(old[0].get(k) is not v for k, v in by_key.items())
            or len(old[0]) != len(by_key)
        ):
            latest[group] = (by_key, rule)


def _field_array(planes: Planes, site: int, dtype_rule: str, plate_dtype: str | None):
    """The ``(t, c, z, y, x)`` array of one site, cast by ``dtype_rule``; plus its channels
    and z values."""
    keys = [k for k in planes if k.site == site]
    ts = sorted({k.timepoint for k in keys})
    cs = sorted({k.channel for k in keys})
    zs = sorted({k.z for k in keys})
    lookup = {(k.timepoint, k.channel, k.z): k for k in keys}
    first = np.asarray(to_numpy(planes[keys[0]]))
    arr = None
    for ti, t in enumerate(ts):
        for ci, c in enumerate(cs):
            for zi, z in enumerate(zs):
                key = lookup.get((t, c, z))
                if key is None:
                    raise PipelineError(
                        f"site {site}: no plane for timepoint {t}, channel {c}, "
                        f"z {z} after the pipeline"
                    )
                plane = cast_for_output(np.asarray(to_numpy(planes[key])), dtype_rule, plate_dtype)
                if arr is None:
                    arr = np.zeros((len(ts), len(cs), len(zs), *first.shape[-2:]), plane.dtype)
                arr[ti, ci, zi] = plane
    return arr, cs, zs


def _labels_arrays(step: str, planes: Planes, site: int, zs: list[int]) -> dict[str, np.ndarray]:
    """One ``(t, 1, z, y, x)`` int32 labels array per channel of a step's labels at ``site``,
    named after the step (``<step>_c<channel>`` when there are several channels)."""
    keys = [k for k in planes if k.site == site]
    channels = sorted({k.channel for k in keys})
    out = {}
    for c in channels:
        ck = [k for k in keys if k.channel == c]
        ts = sorted({k.timepoint for k in ck})
        lz = sorted({k.z for k in ck})
        if len(lz) != len(zs):
            raise PipelineError(
                f"step {step!r}: labels have {len(lz)} z-planes but the image "
                f"has {len(zs)}; materialise labels after the same projection"
            )
        lookup = {(k.timepoint, k.z): k for k in ck}
        first = np.asarray(to_numpy(planes[ck[0]]))
        arr = np.zeros((len(ts), 1, len(lz), *first.shape[-2:]), np.int32)
        for ti, t in enumerate(ts):
            for zi, z in enumerate(lz):
                arr[ti, 0, zi] = np.asarray(to_numpy(planes[lookup[(t, z)]]))
        out[step if len(channels) == 1 else f"{step}_c{c}"] = arr
    return out


def write_fields(unit: WorkUnit, image_planes, image_rule, labels_steps, intermediate) -> dict:
    """Write the unit's fields to the main plate and its intermediate plates.

    Returns the aggregates: ``fields`` (the field numbers written) and, when a step made
    labels, ``object_count`` (objects of the last labels step, over the unit's sites).
    """
    spec = unit.output
    names = dict(spec.channel_names)
    writers = open_output_plates(spec, [name for name, _, _ in intermediate])
    aggregates: dict[str, Any] = {}
    count = 0
    sites = sorted({k.site for k in image_planes})
    for site in sites:
        image, channels, zs = _field_array(image_planes, site, image_rule, spec.plate_dtype)
        labels = {}
        for name, planes in labels_steps:
            labels.update(_labels_arrays(name, planes, site, zs))
        writers[0].write_field(
            unit.well,
            site - 1,
            image,
            labels=labels or None,
            channel_names=[names.get(c, f"channel {c}") for c in channels],
            pixel_size=spec.pixel_size,
        )
        for writer, (_, planes, rule) in zip(writers[1:], intermediate, strict=True):
            inter, ich, _ = _field_array(planes, site, rule, spec.plate_dtype)
            writer.write_field(
                unit.well,
                site - 1,
                inter,
                channel_names=[names.get(c, f"channel {c}") for c in ich],
                pixel_size=spec.pixel_size,
            )
        if labels_steps:
            _, planes = labels_steps[-1]
            for k, v in planes.items():
                if k.site == site:
                    count += count_labels(np.asarray(to_numpy(v)))
    if labels_steps:
        aggregates["object_count"] = count
    aggregates["fields"] = [s - 1 for s in sites]
    return aggregates


def count_labels(lab: np.ndarray) -> int:
    """Distinct non-zero labels (a mask counts as one object if it has any pixel).

    Examples
    --------
    >>> count_labels(np.array([[0, 3], [3, 7]]))
    2
    """
    if lab.dtype == bool:
        return int(lab.any())
    if lab.size == 0:
        return 0
    lo, hi = int(lab.min()), int(lab.max())
    if lab.dtype.kind in "iu" and lo >= 0 and hi <= 4 * lab.size:  # linear time, small table
        return int(np.count_nonzero(np.bincount(lab.ravel(), minlength=1)[1:]))
    return int(np.count_nonzero(np.unique(lab)))
