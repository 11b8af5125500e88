"""Plate-scope steps: run once over a sample of wells, saved, then read by every unit.

A result is ``<step>.npy`` (``(groups, y, x)``, one plane per group) with a ``<step>.json``
sidecar naming each group's components; both are written atomically, the sidecar first, so
a result that exists is complete.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from napari_openhcs import atomic, plates
from napari_openhcs.errors import PipelineError
from napari_openhcs.execution.engine import Planes, run_steps
from napari_openhcs.memory import to_numpy
from napari_openhcs.pipeline.workunits import PlateStepJob


def run_plate_step(job: PlateStepJob) -> Path:
    """Run a plate-scope step once and save its result; returns the ``.npy`` path.

    All planes of ``job.images`` (a sample of wells) are read; wells and sites are stacked
    together with the step's ``variable_components``, and the step runs once per remaining
    group (e.g. per channel), each call returning one plane. The planes are saved as
    ``(groups, y, x)`` in ``job.result_path`` with a ``.json`` sidecar naming each group's
    components, both written atomically.
    """
    step = job.step
    stacked = tuple(dict.fromkeys(("site", *step.variable_components)))
    compiled = dataclasses.replace(step, variable_components=stacked)
    planes_read = plates.read_planes(job.plate_format, [loc for _, loc in job.images])
    raw: Planes = {key: plane for (key, _), plane in zip(job.images, planes_read, strict=True)}
    (result,) = run_steps([compiled], raw)
    out = result.planes
    groups, planes = [], []
    for key in sorted(out, key=lambda k: (k.channel, k.z, k.timepoint)):
        if key not in raw or out[key] is not raw[key]:  # skip planes a group dict passed through
            fields = key._asdict()
            groups.append({c: fields[c] for c in ("channel", "z", "timepoint") if c not in stacked})
            planes.append(np.asarray(to_numpy(out[key])))
    if not planes:
        raise PipelineError(f"plate step {step.name!r} produced no result")
    path = Path(job.result_path)
    with atomic.replace_file(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.stack(planes))
        atomic.write_json(path.with_suffix(".json"), {"step": step.name, "groups": groups})
    return path


def load_plate_result(path: str | Path) -> tuple[list[dict], np.ndarray]:
    """A saved plate-step result: its groups (component → value) and ``(groups, y, x)``."""
    path = Path(path)
    if not path.exists():
        raise PipelineError(
            f"plate step result {path} is missing: the plate step must run before the units"
        )
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return meta["groups"], np.load(path)
