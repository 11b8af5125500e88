"""napari-openhcs: high-content screening plates and pipelines, in napari and headless.

Importing the package is cheap: it imports no image library, no Qt and no napari. The public
API is loaded on first use::

    >>> import napari_openhcs as oh
    >>> gaussian = oh.fn("skimage.filters.gaussian")  # doctest: +SKIP
"""

from __future__ import annotations

from napari_openhcs.lazy import attach

__version__ = "0.1.0"

__getattr__, __dir__, _exported = attach(
    __name__,
    {
        "fn": "napari_openhcs.registry",
        "list_functions": "napari_openhcs.registry",
        "Step": "napari_openhcs.pipeline",
        "Pipeline": "napari_openhcs.pipeline",
        "open_plate": "napari_openhcs.plates",
        "run_plate": "napari_openhcs.execution",
    },
)
__all__ = ["__version__", *_exported]
