"""Make a small synthetic plate, run the built-in nuclei_count pipeline on it, print counts.

Usage: python examples/run_nuclei_count.py [OUT_DIR]

The same pipeline runs from the command line with
``napari-openhcs run PLATE --pipeline nuclei_count --out OUT``; this script shows the Python
API: build or load a pipeline, run it headless, read the per-well aggregates.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from napari_openhcs import Pipeline, Step, fn, run_plate
from napari_openhcs.pipeline import load_pipeline
from napari_openhcs.plates.synthetic import write_plate


def main(out: Path) -> int:
    plate = write_plate(out / "plate", "imagexpress", wells=["A01", "B02"])
    # The built-in pipeline, by name; the same as building it by hand:
    pipeline = load_pipeline("nuclei_count")
    by_hand = Pipeline(
        [
            Step(fn("napari_openhcs.functions.max_projection"), name="project"),
            Step(
                {
                    "1": [
                        fn("napari_openhcs.functions.percentile_normalize"),
                        fn("napari_openhcs.functions.count_objects"),
                    ]
                },
                name="nuclei",
                group_by="channel",
                materialize=True,
            ),
        ],
        name="nuclei count",
    )
    assert by_hand == pipeline
    report = run_plate(plate, pipeline, out / "results", executor="serial")
    print((out / "results" / "wells.csv").read_text())
    return report.exit_code


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    raise SystemExit(main(target))
