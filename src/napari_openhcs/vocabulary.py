"""The words every layer shares: memory types, processing contracts, output kinds.

Defined once here, at the bottom (standard library only, no NumPy), so that ``memory/``,
``registry/`` (whose import stays NumPy-free) and the command line all use the same tuples.
"""

from __future__ import annotations

#: Every memory type a function can declare, in a fixed order (the host's preference order).
MEMORY_TYPES: tuple[str, ...] = ("numpy", "cupy", "torch", "pyclesperanto")

#: How a function meets an ``(n, y, x)`` stack.
#: ``slice``: a 2-D function, called once per plane (default for library functions).
#: ``volume``: declared 3-D; gets the whole stack when the step stacks ``z``, else per plane.
#: ``stack``: takes the ``(n, y, x)`` stack itself (projections, own stack-aware functions).
CONTRACTS: tuple[str, ...] = ("slice", "volume", "stack")

#: What the first result of a function is.
OUTPUT_KINDS: tuple[str, ...] = ("image", "labels", "mask")
