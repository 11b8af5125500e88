"""Writers of synthetic plates in each layout: ImageXpress, Opera Phenix, OME-Zarr.

Each takes a well's site stacks ``(t, c, z, y, x)`` (uint16) and writes them the way the
microscope (or ``OmeZarrPlateWriter``) would. Output is deterministic: no timestamps or ids.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from napari_openhcs.errors import InputError
from napari_openhcs.storage.omezarr import OmeZarrPlateWriter
from napari_openhcs.wells import parse_well

_PIXEL_M = 0.65e-6
_Z_STEP_M = 2.0e-6


def _write_tiff(path: Path, plane: np.ndarray, description: str | None = None) -> None:
    import tifffile

    tifffile.imwrite(path, plane, photometric="minisblack", metadata=None, description=description)


# The calibration MetaXpress writes into each image's description (as MetaMorph tags).
_METAXPRESS_DESCRIPTION = (
    "<MetaData>\n"
    f'<prop id="spatial-calibration-x" type="float" value="{_PIXEL_M * 1e6:g}"/>\n'
    f'<prop id="spatial-calibration-y" type="float" value="{_PIXEL_M * 1e6:g}"/>\n'
    '<prop id="spatial-calibration-units" type="string" value="um"/>\n'
    "</MetaData>"
)


PLATE_NAME = "synthetic"
CHANNEL_NAMES = ("DAPI", "FITC", "TRITC", "Cy5", "Cy7")


def channel_name(channel: int) -> str:
    """Display name of a synthetic channel (1-based)."""
    return CHANNEL_NAMES[channel - 1] if channel <= len(CHANNEL_NAMES) else f"ch{channel}"


class _Layout:
    def __init__(
        self, root, grid, wells, sites, channels, z, timepoints, size, channel_names=None, **options
    ):
        if options:
            raise InputError(f"options {sorted(options)} only apply to the omezarr format")
        self.root, self.grid, self.wells = Path(root), grid, wells
        # the names written into the plate's metadata (.HTD WaveName, Index ChannelName, omero)
        self.names = list(channel_names or [channel_name(c) for c in range(1, channels + 1)])
        self.sites, self.channels, self.z, self.timepoints, self.size = (
            sites,
            channels,
            z,
            timepoints,
            size,
        )

    def finish(self) -> None:
        """Write whatever metadata needs every well first."""


class ImageXpressLayout(_Layout):
    """``synthetic.HTD`` and ``TimePoint_t/[ZStep_z/]synthetic_<well>[_s][_w].tif``."""

    def write_well(self, well: str, stacks: list[np.ndarray]) -> None:
        name = PLATE_NAME
        for s, stack in enumerate(stacks, start=1):
            for t in range(self.timepoints):
                for c in range(self.channels):
                    for z in range(self.z):
                        folder = self.root / f"TimePoint_{t + 1}"
                        if self.z > 1:
                            folder = folder / f"ZStep_{z + 1}"
                        folder.mkdir(parents=True, exist_ok=True)
                        fname = f"{name}_{well}"
                        if self.sites > 1:
                            fname += f"_s{s}"
                        if self.channels > 1:
                            fname += f"_w{c + 1}"
                        _write_tiff(
                            folder / f"{fname}.tif", stack[t, c, z], _METAXPRESS_DESCRIPTION
                        )

    def finish(self) -> None:
        name = PLATE_NAME
        rows, cols = self.grid
        chosen = {parse_well(w) for w in self.wells}
        xs = math.ceil(math.sqrt(self.sites))
        ys = math.ceil(self.sites / xs)

        def flags(values):
            return ", ".join("TRUE" if v else "FALSE" for v in values)

        lines = [
            '"HTSInfoFile", Version 1.0',
            f'"Description", "napari-openhcs synthetic plate {name}"',
            f'"TimePoints", {self.timepoints}',
            f'"ZSeries", {"TRUE" if self.z > 1 else "FALSE"}',
            f'"ZSteps", {self.z}',
            '"ZProjection", FALSE',
            f'"XWells", {cols}',
            f'"YWells", {rows}',
        ]
        for r in range(1, rows + 1):
            lines.append(
                f'"WellsSelection{r}", ' + flags((r, c) in chosen for c in range(1, cols + 1))
            )
        lines += [
            f'"Sites", {"TRUE" if self.sites > 1 else "FALSE"}',
            f'"XSites", {xs}',
            f'"YSites", {ys}',
        ]
        for r in range(ys):
            lines.append(
                f'"SiteSelection{r + 1}", ' + flags(r * xs + c < self.sites for c in range(xs))
            )
        lines += [
            f'"Waves", {"TRUE" if self.channels > 1 else "FALSE"}',
            f'"NWavelengths", {self.channels}',
        ]
        for c in range(1, self.channels + 1):
            lines += [f'"WaveName{c}", "{self.names[c - 1]}"', f'"WaveCollect{c}", 1']
        lines += [f'"UniquePlateIdentifier", "{name}"', '"EndFile"']
        (self.root / f"{name}.HTD").write_text("\r\n".join(lines) + "\r\n", encoding="ascii")


class PhenixLayout(_Layout):
    """``Images/Index.idx.xml`` and ``Images/r01c01f01p01-ch1sk1fk1fl1.tiff``."""

    def __init__(self, *args, **options):
        super().__init__(*args, **options)
        (self.root / "Images").mkdir()
        self.entries: list[str] = []

    def write_well(self, well: str, stacks: list[np.ndarray]) -> None:
        row, col = parse_well(well)
        field_side = self.size * _PIXEL_M
        for s, stack in enumerate(stacks, start=1):
            fx, fy = ((s - 1) % 3) * field_side, ((s - 1) // 3) * field_side
            for t in range(self.timepoints):
                for c in range(self.channels):
                    for z in range(self.z):
                        url = f"r{row:02d}c{col:02d}f{s:02d}p{z + 1:02d}-ch{c + 1}sk{t + 1}fk1fl1.tiff"
                        _write_tiff(self.root / "Images" / url, stack[t, c, z])
                        self.entries.append(
                            f'  <Image Version="1"><id>{row:02d}{col:02d}K{t + 1}F{s}P{z + 1}R{c + 1}'
                            f"</id><State>Ok</State><URL>{url}</URL><Row>{row}</Row><Col>{col}</Col>"
                            f"<FieldID>{s}</FieldID><PlaneID>{z + 1}</PlaneID>"
                            f"<TimepointID>{t}</TimepointID><FlimID>1</FlimID>"
                            f"<ChannelID>{c + 1}</ChannelID><ChannelName>{self.names[c]}"
                            f'</ChannelName><ImageResolutionX Unit="m">{_PIXEL_M:.6E}'
                            f'</ImageResolutionX><ImageResolutionY Unit="m">{_PIXEL_M:.6E}'
                            f"</ImageResolutionY><ImageSizeX>{self.size}</ImageSizeX>"
                            f"<ImageSizeY>{self.size}</ImageSizeY>"
                            f'<PositionX Unit="m">{fx:.6E}</PositionX>'
                            f'<PositionY Unit="m">{fy:.6E}</PositionY>'
                            f'<PositionZ Unit="m">{z * _Z_STEP_M:.6E}</PositionZ></Image>'
                        )

    def finish(self) -> None:
        name = PLATE_NAME
        rows, cols = self.grid
        wells = sorted(parse_well(w) for w in self.wells)
        maps = "".join(
            f'<Entry ChannelID="{c}"><ChannelName>{self.names[c - 1]}</ChannelName>'
            f'<ImageResolutionX Unit="m">{_PIXEL_M:.6E}</ImageResolutionX>'
            f'<ImageResolutionY Unit="m">{_PIXEL_M:.6E}</ImageResolutionY></Entry>'
            for c in range(1, self.channels + 1)
        )
        text = "\n".join(
            [
                '<?xml version="1.0" encoding="utf-8"?>',
                '<EvaluationInputData xmlns="http://www.perkinelmer.com/PEHH/HarmonyV6" '
                'Version="1">',
                " <User>napari-openhcs synthetic</User>",
                f" <Plates><Plate><PlateID>{name}</PlateID><PlateName>{name}</PlateName>"
                f"<PlateRows>{rows}</PlateRows><PlateColumns>{cols}</PlateColumns>"
                + "".join(f'<Well id="{r:02d}{c:02d}" />' for r, c in wells)
                + "</Plate></Plates>",
                " <Wells>"
                + "".join(
                    f"<Well><id>{r:02d}{c:02d}</id><Row>{r}</Row><Col>{c}</Col></Well>"
                    for r, c in wells
                )
                + "</Wells>",
                f" <Maps><Map>{maps}</Map></Maps>",
                " <Images>",
                *self.entries,
                " </Images>",
                "</EvaluationInputData>",
                "",
            ]
        )
        (self.root / "Images" / "Index.idx.xml").write_text(text, encoding="utf-8")


class OmeZarrLayout(_Layout):
    """An OME-Zarr HCS plate written by the storage layer's ``OmeZarrPlateWriter``."""

    def __init__(
        self, root, grid, wells, sites, channels, z, timepoints, size, channel_names=None, **options
    ):
        super().__init__(root, grid, wells, sites, channels, z, timepoints, size, channel_names)
        name = PLATE_NAME
        self.writer = OmeZarrPlateWriter(root, grid[0], grid[1], name=name, **options)

    def write_well(self, well: str, stacks: list[np.ndarray]) -> None:
        for s, stack in enumerate(stacks):
            self.writer.write_field(
                well,
                s,
                stack,
                channel_names=self.names,
                pixel_size=(_PIXEL_M * 1e6, _PIXEL_M * 1e6),
                z_step=_Z_STEP_M * 1e6 if self.z > 1 else None,
            )
        self.writer.finish_well(well, len(stacks))
