"""Adding or updating layers by name (main thread only)."""

from __future__ import annotations

from typing import Any


def set_layer(viewer: Any, name: str, data: Any, kind: str = "image", **kwargs: Any) -> Any:
    """Set ``data`` on the layer ``name`` in place, or add it when absent or of another kind.

    An image layer whose data changes shape is updated in place too (napari accepts it); its
    contrast limits are reset to the new data's range.
    """
    import numpy as np

    layer = viewer.layers[name] if name in viewer.layers else None  # noqa: SIM401
    if layer is not None and layer._type_string != kind:
        viewer.layers.remove(layer)
        layer = None
    if kind == "labels":
        data = np.asarray(data)
        if data.dtype.kind not in "iu":
            data = data.astype(np.int32)
    if layer is None:
        add = viewer.add_labels if kind == "labels" else viewer.add_image
        return add(data, name=name, **kwargs)
    layer.data = data
    if kind == "image":
        layer.reset_contrast_limits()
    return layer
