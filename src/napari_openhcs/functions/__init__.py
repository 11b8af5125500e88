"""The package's own processing functions, written like scikit-image functions.

Each takes an ``(n, y, x)`` stack first and returns a stack with the same ``y, x`` first;
each carries a memory-type decorator and ``declare(...)`` metadata, so the registry lists
it as ``napari_openhcs.functions.<name>``. These are the NumPy versions; Torch, CuPy and
pyclesperanto versions live in :mod:`napari_openhcs.functions.torch`,
:mod:`napari_openhcs.functions.cupy` and :mod:`napari_openhcs.functions.pyclesperanto`
(GPU ``measure_cells``, see :mod:`napari_openhcs.functions.gpumeasure`), imported only when
asked for.

Importing this module imports NumPy and the package's light decorator modules only:
scikit-image and SciPy are imported inside the functions that use them.
"""

from napari_openhcs.functions.background import tophat_background
from napari_openhcs.functions.cellmeasure import measure_cells
from napari_openhcs.functions.composite import composite
from napari_openhcs.functions.counting import count_objects
from napari_openhcs.functions.exposure import percentile_normalize
from napari_openhcs.functions.flatfield import correct_flatfield, estimate_flatfield
from napari_openhcs.functions.measure import measure_objects
from napari_openhcs.functions.objects import (
    identify_primary_objects,
    identify_secondary_objects,
    identify_tertiary_objects,
)
from napari_openhcs.functions.projection import max_projection, mean_projection
from napari_openhcs.functions.relations import filter_objects, relate_objects
from napari_openhcs.functions.threshold import threshold

__all__ = [
    "composite",
    "correct_flatfield",
    "count_objects",
    "estimate_flatfield",
    "filter_objects",
    "identify_primary_objects",
    "identify_secondary_objects",
    "identify_tertiary_objects",
    "max_projection",
    "mean_projection",
    "measure_cells",
    "measure_objects",
    "percentile_normalize",
    "relate_objects",
    "threshold",
    "tophat_background",
]
