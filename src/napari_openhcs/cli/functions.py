"""``napari-openhcs functions [--library L] [--memory-type T] [--json]``."""

from __future__ import annotations

import json
import shutil

from napari_openhcs.errors import InputError
from napari_openhcs.registry import list_functions


def format_table(infos, width: int | None = None) -> list[str]:
    """The ``functions`` table: columns as wide as their longest entry, so long references
    never run into the next column; a line past ``width`` ends in an ellipsis."""
    header = ("function", "memory", "contract", "category", "available")
    rows = [
        (i.ref, i.memory_type, i.contract, i.category, "yes" if i.available else f"no: {i.reason}")
        for i in infos
    ]
    widths = [max(len(r[k]) for r in [header, *rows]) + 2 for k in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        line = "".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + row[-1]
        if width is not None and len(line) > width:
            line = line[: width - 1] + "\u2026"
        lines.append(line)
    return lines


def functions_command(args) -> int:
    """List registered functions as a table, or as a JSON list with ``--json``."""
    infos = list_functions(library=args.library, memory_type=args.memory_type)
    if args.library is not None and not infos:
        libraries = sorted({i.library for i in list_functions()})
        raise InputError(
            f"--library {args.library!r} has no registered functions; known: {', '.join(libraries)}"
        )
    if args.json:
        print(json.dumps([i.to_dict() for i in infos]))
        return 0
    if not infos:
        print(f"no registered {args.memory_type} function (napari-openhcs functions lists all)")
        return 0
    width = shutil.get_terminal_size((120, 20)).columns
    for line in format_table(infos, width if width > 60 else None):
        print(line)
    counts: dict[str, int] = {}
    for i in infos:
        counts[i.library] = counts.get(i.library, 0) + 1
    print(f"\n{len(infos)} functions: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0
