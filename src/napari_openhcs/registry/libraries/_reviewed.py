"""Reading the reviewed function lists in ``registry/reviewed/*.tsv``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from napari_openhcs.registry.info import FunctionInfo

REVIEWED = Path(__file__).resolve().parent.parent / "reviewed"


@dataclass(frozen=True)
class ReviewedEntry:
    ref: str
    category: str
    output_kind: str
    test_input: str
    adapter: str | None

    @property
    def input_kinds(self) -> tuple[str, ...]:
        """The test input's kinds: the image's, then each image parameter's (``"float,mask"``)."""
        return tuple(self.test_input.split(","))


def read_reviewed(name: str) -> list[ReviewedEntry]:
    """Entries of ``reviewed/<name>.tsv`` (comment lines start with ``#``)."""
    entries = []
    for line in (REVIEWED / f"{name}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ref, category, kind, test_input, adapter = line.split("\t")
        entries.append(
            ReviewedEntry(ref, category, kind, test_input, None if adapter == "-" else adapter)
        )
    return entries


def reviewed_info(
    entry: ReviewedEntry, library: str, memory_type: str, **fields: Any
) -> FunctionInfo:
    """A slice-contract ``FunctionInfo`` of a reviewed ``entry``, plus ``fields`` (doc, params...)."""
    return FunctionInfo(
        ref=entry.ref,
        library=library,
        memory_type=memory_type,
        contract="slice",
        category=entry.category,
        output_kind=entry.output_kind,
        adapter=entry.adapter,
        **fields,
    )
