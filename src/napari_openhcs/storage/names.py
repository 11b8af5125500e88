"""The names features carry, as CellProfiler gives them: ``<Compartment>_<Family>_<Feature>
[_<channel>]``, each part letters and digits (``_`` separates the parts).

Standard library only, so the compiler names measurements without importing the table
libraries that ``storage.profiles`` needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

__all__ = ["channel_feature_names", "compartment_name", "is_name_part"]

#: One part of a feature name (a compartment, a channel): ``_`` separates the parts.
_NAME_PART = re.compile(r"[A-Za-z][A-Za-z0-9]*")


def is_name_part(text: object) -> bool:
    """Whether ``text`` can be one part of a feature name: letters and digits, a letter
    first (``_`` separates a name's parts: ``Nuclei_Intensity_MeanIntensity_DAPI``).

    >>> is_name_part("DAPI"), is_name_part("Alexa 488"), is_name_part("Cyto_2")
    (True, False, False)
    """
    return isinstance(text, str) and _NAME_PART.fullmatch(text) is not None


def compartment_name(name: str) -> str:
    """A compartment name from a step name: letters and digits, capitalised as pycytominer
    spells compartments (``str.title``), so ``infer_cp_features`` can be told about it.

    Examples
    --------
    >>> compartment_name("nuclei"), compartment_name("my spots"), compartment_name("nuclei2")
    ('Nuclei', 'Myspots', 'Nuclei2')
    """
    return re.sub(r"[^0-9A-Za-z]", "", name).title() or "Objects"


def channel_feature_names(names: Mapping[int, str], channels: Sequence[int]) -> dict[int, str]:
    """The name each channel takes in feature names, from the plate's channel names.

    A plate's name keeps its letters and digits (``Alexa 488`` becomes ``Alexa488``), with a
    ``C`` in front when it starts with a digit (``488``: ``C488``); a channel without a
    name is ``C<channel>`` (as ``measure_cells`` names unnamed channels); names that two
    channels share get their channel's number appended (``DAPI1``, ``DAPI2``).

    Examples
    --------
    >>> channel_feature_names({1: "DAPI", 2: "Alexa 488"}, [1, 2, 3])
    {1: 'DAPI', 2: 'Alexa488', 3: 'C3'}
    """
    found = {}
    for channel in channels:
        part = re.sub(r"[^0-9A-Za-z]", "", str(names.get(channel) or ""))
        if part and not part[0].isalpha():
            part = f"C{part}"
        found[channel] = part or f"C{channel}"
    values = list(found.values())
    return {c: f"{n}{c}" if values.count(n) > 1 else n for c, n in found.items()}
