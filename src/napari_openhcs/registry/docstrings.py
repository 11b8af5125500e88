"""Parameter facts from numpydoc docstrings: each parameter's type line, description and choices.

The registry reads scikit-image's and pyclesperanto's docstrings this way, without importing
anything beyond the standard library (``registry.specs`` combines them with signatures).
"""

from __future__ import annotations

import inspect
import re

_QUOTES = "'\"\u2018\u2019`"
_DOC_ENTRY = re.compile(r"^(\w+)\s*:\s*(.+)$")


def _doc_sections(doc: str) -> dict[str, list[str]]:
    """Lines of each numpydoc section (``{"parameters": [...], "other parameters": [...]}``)."""
    lines = inspect.cleandoc(doc).splitlines()
    sections: dict[str, list[str]] = {}
    current = None
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"\s*-{3,}\s*", nxt):
            current = line.strip().lower()
            sections[current] = []
        elif current is not None and not re.fullmatch(r"\s*-{3,}\s*", line):
            sections[current].append(line)
    return sections


def parse_numpydoc(doc: str | None) -> dict[str, tuple[str, str]]:
    """``{name: (type line, description)}`` from the numpydoc ``Parameters`` and
    ``Other Parameters`` sections."""
    if not doc:
        return {}
    sections = _doc_sections(doc)
    out: dict[str, tuple[str, str]] = {}
    for title in ("parameters", "other parameters"):
        current = None
        for line in sections.get(title, ()):
            if line and not line[0].isspace():
                entry = _DOC_ENTRY.match(line.strip())
                if entry:
                    for name in entry.group(1).split(","):
                        current = name.strip()
                        out[current] = (entry.group(2).strip(), "")
                else:
                    current = None
            elif current and line.strip():
                kind, desc = out[current]
                out[current] = (kind, (desc + " " + line.strip()).strip())
    return out


def choices_from_doc(type_line: str) -> tuple | None:
    """The values of a numpydoc choice set (``{'reflect', 'wrap'}``), or ``None``."""
    m = re.search(r"\{([^}]*)\}", type_line)
    if not m:
        return None
    values = []
    for raw in m.group(1).split(","):
        raw = raw.strip()
        if raw[:1] in _QUOTES or raw[-1:] in _QUOTES:
            values.append(raw.strip(_QUOTES))
        elif raw in ("None",):
            continue
        else:
            try:
                values.append(int(raw))
            except ValueError:
                try:
                    values.append(float(raw))
                except ValueError:
                    values.append(raw)
    return tuple(values) or None


def type_from_doc(type_line: str) -> str | None:
    """The spec annotation a numpydoc type line names (``"float"``, ``"tuple[float, ...]"``)."""
    t = type_line.lower()
    if "{" in t:
        return None
    for word, kind in (
        ("bool", "bool"),
        ("int", "int"),
        ("float", "float"),
        ("scalar", "float"),
        ("str", "str"),
    ):
        m = re.search(rf"\b{word}", t)
        if m:
            seq = re.search(r"sequence|tuple|array|iterable|list", t)
            if seq and seq.start() < m.start():  # "sequence of floats", not "float or sequence"
                return "tuple[float, ...]" if kind in ("float", "int") else "any"
            return kind
    return None
