"""Our single-cell tables and well profiles go through pycytominer without renaming."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from napari_openhcs.functions import (
    identify_primary_objects,
    identify_secondary_objects,
    identify_tertiary_objects,
)
from napari_openhcs.functions.cellmeasure import object_features
from napari_openhcs.plates.synthetic_cells import make_cells
from napari_openhcs.storage.profiles import feature_columns, single_cell_table, well_profiles

pycytominer = pytest.importorskip("pycytominer", reason="pycytominer is in the test extra")

CHANNELS = ("DNA", "Actin", "Membrane")
#: Six wells: three negative controls, three treated with a brighter cytoplasm marker.
PLATE_MAP = {
    "A01": ("DMSO", "negative"),
    "A02": ("DMSO", "negative"),
    "A03": ("DMSO", "negative"),
    "B01": ("drug", "treated"),
    "B02": ("drug", "treated"),
    "B03": ("drug", "treated"),
}


def _site_table(well: str, site: int, seed: int) -> pa.Table:
    marker = (0.8, 1.2) if PLATE_MAP[well][1] == "negative" else (1.6, 2.4)
    cells_site = make_cells(128, count=8, seed=seed, marker=marker)
    nuclei = identify_primary_objects(cells_site.image[0], exclude_border=False)
    cells = identify_secondary_objects(cells_site.image[1][None], nuclei)
    cytoplasm = identify_tertiary_objects(cells, nuclei)
    measured = {
        name: object_features(labels[0], cells_site.image, channels=CHANNELS, compartment=name)
        for name, labels in (("Cells", cells), ("Cytoplasm", cytoplasm), ("Nuclei", nuclei))
    }
    return single_cell_table(measured, plate="P1", well=well, site=site)


@pytest.fixture(scope="module")
def single_cells() -> pa.Table:
    tables = [
        _site_table(well, site, seed=10 * i + site)
        for i, well in enumerate(PLATE_MAP)
        for site in (1, 2)
    ]
    return pa.concat_tables(tables)


def test_single_cell_table_has_cytotables_layout(single_cells):
    names = single_cells.column_names
    assert names[:7] == [
        "Metadata_Plate",
        "Metadata_Well",
        "Metadata_Site",
        "Metadata_ObjectNumber",
        "Metadata_Cells_Parent_Nuclei",
        "Metadata_Cytoplasm_Parent_Cells",
        "Metadata_Cytoplasm_Parent_Nuclei",
    ]
    assert all(
        n.startswith("Metadata_") or n.split("_")[0] in ("Cells", "Cytoplasm", "Nuclei")
        for n in names
    )
    # Cells grow from nuclei: each row's parent nucleus is its own number.
    assert single_cells.column("Metadata_Cells_Parent_Nuclei").to_pylist() == (
        single_cells.column("Metadata_ObjectNumber").to_pylist()
    )


def test_infer_cp_features_finds_exactly_our_feature_columns(single_cells):
    from pycytominer.cyto_utils import infer_cp_features

    frame = single_cells.to_pandas()
    assert infer_cp_features(frame) == feature_columns(single_cells)
    assert infer_cp_features(frame, metadata=True) == [
        n for n in single_cells.column_names if n.startswith("Metadata_")
    ]


def test_median_aggregate_equals_our_well_profiles(single_cells):
    ours = well_profiles(single_cells).to_pandas()
    theirs = pycytominer.aggregate(
        single_cells.to_pandas(), operation="median", compute_object_count=True
    )
    features = feature_columns(single_cells)
    assert list(theirs["Metadata_Well"]) == list(ours["Metadata_Well"]) == sorted(PLATE_MAP)
    np.testing.assert_allclose(
        theirs[features].to_numpy(float), ours[features].to_numpy(float), rtol=1e-9
    )
    assert list(theirs["Metadata_Object_Count"]) == list(ours["Metadata_Object_Count"])


def test_annotate_normalize_and_feature_select_run_on_our_profiles(single_cells):
    import pandas as pd

    profiles = well_profiles(single_cells).to_pandas()
    platemap = pd.DataFrame(
        {
            "well_position": list(PLATE_MAP),
            "treatment": [t for t, _ in PLATE_MAP.values()],
            "control_type": [c for _, c in PLATE_MAP.values()],
        }
    )
    annotated = pycytominer.annotate(
        profiles, platemap, join_on=["Metadata_well_position", "Metadata_Well"]
    )
    assert set(annotated["Metadata_control_type"]) == {"negative", "treated"}
    normalized = pycytominer.normalize(
        annotated,
        features="infer",
        samples="Metadata_control_type == 'negative'",
        method="mad_robustize",
    )
    marker = "Cells_Intensity_MeanIntensity_Actin"
    negative = normalized["Metadata_control_type"] == "negative"
    # Robust z-scores: controls centred on 0, the brighter treated wells far above them.
    assert abs(normalized.loc[negative, marker].median()) < 1e-9
    assert normalized.loc[~negative, marker].min() > 3
    selected = pycytominer.feature_select(
        normalized, features="infer", operation=["variance_threshold", "correlation_threshold"]
    )
    kept = [c for c in selected.columns if not c.startswith("Metadata_")]
    assert 0 < len(kept) < len(feature_columns(single_cells))


def test_each_row_carries_its_nucleus_children_counts_counted_from_the_labels():
    """``Nuclei_Children_Cells_Count``: the cells whose parent (most overlapping) nucleus is
    the row's nucleus, counted from the label images; null where the nucleus is missing."""
    site = make_cells(128, count=8, seed=3, marker=(0.8, 1.2))
    nuclei = identify_primary_objects(site.image[0], exclude_border=False)
    cells = identify_secondary_objects(site.image[1][None], nuclei)
    cytoplasm = identify_tertiary_objects(cells, nuclei)
    gone = int(nuclei.max())  # a nucleus filtered away after its cell was found
    nuclei = np.where(nuclei == gone, 0, nuclei)
    measured = {
        name: object_features(labels[0], site.image[:1], channels=("DNA",), compartment=name)
        for name, labels in (("Cells", cells), ("Cytoplasm", cytoplasm), ("Nuclei", nuclei))
    }
    table = single_cell_table(measured, plate="P1", well="A01", site=1)
    numbers = table.column("Metadata_ObjectNumber").to_pylist()
    for child, labels in (("Cells", cells), ("Cytoplasm", cytoplasm)):
        want = []
        for n in numbers:
            if not (nuclei == n).any():
                want.append(None)
                continue
            # children of nucleus n: objects whose pixels overlap nucleus n most
            count = 0
            for k in np.unique(labels[labels > 0]):
                under = nuclei[labels == k]
                under = under[under > 0]
                if under.size and np.bincount(under).argmax() == n:
                    count += 1
                elif not under.size and k == n:
                    count += 1  # a cytoplasm has no nucleus pixels: its cell's number
            want.append(count)
        assert table.column(f"Nuclei_Children_{child}_Count").to_pylist() == want, child
    assert table.column("Nuclei_Children_Cells_Count").to_pylist()[numbers.index(gone)] is None
    assert set(table.column("Cells_Children_Cytoplasm_Count").to_pylist()) <= {0, 1}
