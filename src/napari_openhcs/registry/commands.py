"""``napari-openhcs functions [--library L] [--memory-type T] [--json]``."""

from __future__ import annotations

import json
import shutil


def functions_command(args) -> int:
    """List registered functions as a table, or as a JSON list with ``--json``."""
    from napari_openhcs.errors import InputError
    from napari_openhcs.registry import list_functions
    from napari_openhcs.registry.info import MEMORY_TYPES

    if args.memory_type is not None and args.memory_type not in MEMORY_TYPES:
        raise InputError(
            f"--memory-type {args.memory_type!r}: choose one of {', '.join(MEMORY_TYPES)}"
        )
    infos = list_functions(library=args.library, memory_type=args.memory_type)
    if args.library is not None and not infos:
        libraries = sorted({i.library for i in list_functions()})
        raise InputError(
            f"--library {args.library!r} has no registered functions; known: {', '.join(libraries)}"
        )
    if args.json:
        print(json.dumps([i.to_dict() for i in infos]))
        return 0
    width = shutil.get_terminal_size((120, 20)).columns
    print(f"{'function':<58}{'memory':<14}{'contract':<9}{'category':<13}available")
    for i in infos:
        status = "yes" if i.available else f"no: {i.reason}"
        line = f"{i.ref:<58}{i.memory_type:<14}{i.contract:<9}{i.category:<13}{status}"
        print(line[:width] if width > 60 else line)
    counts: dict[str, int] = {}
    for i in infos:
        counts[i.library] = counts.get(i.library, 0) + 1
    print(f"\n{len(infos)} functions: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0
