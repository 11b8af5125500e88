"""Memory types (NumPy, CuPy, torch, pyclesperanto), safe conversion between them, decorators.

Importing this package imports NumPy only; the GPU and OpenCL libraries are imported when a
conversion or a decorated function needs them.
"""

from __future__ import annotations

from napari_openhcs.memory.convert import (
    convert,
    is_memory_mapped,
    to_numpy,
    to_torch,
    torch_safe_dtype,
)
from napari_openhcs.memory.decorators import cupy, memory_types, numpy, pyclesperanto, torch
from napari_openhcs.memory.devices import (
    current_gpu,
    free_gpu_memory,
    limit_cpu_threads,
    use_gpu,
)
from napari_openhcs.memory.types import (
    MEMORY_TYPES,
    available_memory_types,
    detect_memory_type,
    gpu_available,
    memory_type_status,
)

__all__ = [
    "MEMORY_TYPES",
    "available_memory_types",
    "convert",
    "cupy",
    "current_gpu",
    "detect_memory_type",
    "free_gpu_memory",
    "gpu_available",
    "is_memory_mapped",
    "limit_cpu_threads",
    "memory_type_status",
    "memory_types",
    "numpy",
    "pyclesperanto",
    "to_numpy",
    "to_torch",
    "torch",
    "torch_safe_dtype",
    "use_gpu",
]
