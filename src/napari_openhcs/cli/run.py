"""``napari-openhcs run`` and ``napari-openhcs demo``."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from napari_openhcs.errors import InputError, UnknownFunctionError
from napari_openhcs.execution.missing import warning_line
from napari_openhcs.execution.progress import ProgressBar
from napari_openhcs.execution.run import run_plate
from napari_openhcs.memory.devices import visible_gpus
from napari_openhcs.pipeline import load_pipeline
from napari_openhcs.plates.synthetic import write_plate
from napari_openhcs.plates.synthetic_score import score_cell_run
from napari_openhcs.registry import get_info
from napari_openhcs.tables import write_csv

#: The demo plate: small enough for a 2-core laptop, big enough to show the pipeline at work.
DEMO_PLATE = {
    "wells": ["A01", "A02", "A03", "B01", "B02", "B03"],
    "sites": 1,
    "z": 1,
    "size": 256,
    "seed": 0,
}
#: The demo's phenotypes: a gradient of marker-positive cells over the wells, larger cells in
#: row B (the marker intensity is the same everywhere, so one threshold splits the plate).
DEMO_PLATE_MAP = {
    well: {"positive_fraction": f"{i / 5:.1f}", "cell_size": "1.0" if well[0] == "A" else "1.5"}
    for i, well in enumerate(DEMO_PLATE["wells"])
}
#: The demo fails (exit 1) when a well's nuclei or cell count is off by more than this.
DEMO_COUNT_TOLERANCE = 0.10


def _split_wells(text: str | None) -> list[str] | None:
    if not text:
        return None
    wells = [w.strip() for w in text.split(",") if w.strip()]
    if not wells:
        raise InputError(f"--wells {text!r} names no well")
    return wells


def _print_failures(report) -> None:
    for well in report.failed:
        info = report.wells[well]
        where = f"well {well}"
        if info.get("site") is not None:
            where += f" site {info['site']}"
        if info.get("step"):
            where += f", step {info['step']!r}"
        if info.get("function"):
            where += f" ({info['function']})"
        print(f"FAILED {where}: {info.get('error')}", file=sys.stderr)
        if info.get("traceback"):
            print(info["traceback"].rstrip(), file=sys.stderr)


def _parse_gpus(text: str):
    """``--gpus``: "auto", "none" or comma-separated GPU numbers."""
    text = (text or "auto").strip().lower()
    if text in ("auto", "none"):
        return "auto" if text == "auto" else None
    try:
        gpus = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(f"--gpus takes 'auto', 'none' or numbers like 0,1; got {text!r}") from None
    if not gpus or any(g < 0 for g in gpus):
        raise InputError(f"--gpus takes 'auto', 'none' or numbers like 0,1; got {text!r}")
    return gpus


def _check_out(out: str) -> None:
    if Path(out).exists() and not Path(out).is_dir():
        raise InputError(f"--out {out} is a file, not a folder")


def _check_executor_args(args) -> None:
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    for option in ("scheduler", "scheduler_file"):
        if getattr(args, option, None) and args.executor != "dask":
            raise InputError(
                f"--{option.replace('_', '-')} needs --executor dask "
                f"(the {args.executor!r} executor has no scheduler)"
            )


def _gpu_steps(pipeline) -> list[str]:
    """``"step 'name' (ref)"`` for each enabled step calling a CuPy or torch function."""
    found = []
    for step in pipeline.steps:
        if not step.enabled:
            continue
        chains = step.pattern.values() if isinstance(step.pattern, dict) else [step.pattern]
        for ref in dict.fromkeys(ref for chain in chains for ref, _ in chain):
            try:
                memory_type = get_info(ref).memory_type
            except UnknownFunctionError:
                continue  # the compiler names the step and the closest reference
            if memory_type in ("cupy", "torch"):
                found.append(f"step {step.name!r} ({ref})")
    return found


def _check_gpus(pipeline, gpus) -> None:
    """``--gpus 0,1`` names GPUs this machine has, when a step runs on one."""
    steps = _gpu_steps(pipeline)
    have = visible_gpus()
    absent = [g for g in gpus if g not in have]
    if steps and absent:
        there = f"GPUs {', '.join(map(str, have))}" if have else "no GPU"
        raise InputError(
            f"--gpus {','.join(map(str, gpus))}: {steps[0]} runs on a GPU, and this machine "
            f"has {there} (CUDA_VISIBLE_DEVICES and /dev/nvidia*); use --gpus auto or none"
        )


def run_command(args) -> int:
    """Run a pipeline over a plate; exit 0, 1 (some wells failed or lack image planes),
    2 (bad input) or 130."""
    _check_executor_args(args)
    if args.units_per_gpu < 1:
        raise InputError(f"--units-per-gpu must be at least 1, got {args.units_per_gpu}")
    _check_out(args.out)
    gpus = _parse_gpus(args.gpus)
    pipeline = args.pipeline
    if isinstance(gpus, list):  # GPUs named: check them against the pipeline's GPU steps
        pipeline = load_pipeline(args.pipeline, allow_python=args.allow_python)
        _check_gpus(pipeline, gpus)
    bar = None if args.json else ProgressBar()
    report = run_plate(
        args.plate,
        pipeline,
        args.out,
        executor=args.executor,
        workers=args.workers,
        wells=_split_wells(args.wells),
        ngff=args.ngff,
        compressor=args.compressor,
        shards=args.shards,
        overwrite=args.overwrite,
        scheduler=args.scheduler,
        scheduler_file=args.scheduler_file,
        plate_map=args.plate_map,
        allow_python=args.allow_python,
        gpus=gpus,
        max_units_per_gpu=args.units_per_gpu,
        progress=bar if bar is not None else (lambda event: None),
        allow_missing=args.allow_missing,
    )
    if bar is None:  # the progress bar warned as the run started
        for well in report.incomplete:
            print(warning_line(well, report.wells[well]), file=sys.stderr)
    if report.incomplete and not args.allow_missing:
        print(
            f"image planes are missing in {len(report.incomplete)} well(s): their sites were "
            "not computed (exit 1; --allow-missing accepts that)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(report.to_dict(), default=str))
    else:
        _print_failures(report)
        if report.already_done:
            print(
                f"all {report.already_done} wells are already done in {report.out}; "
                "nothing to run (pass --overwrite to redo them)"
            )
            return report.exit_code
        done = len(report.finished)
        print(
            f"{done}/{len(report.wells)} wells finished in {report.seconds:.1f} s -> {report.out}"
        )
        if report.cancelled:
            print("cancelled: finished wells are kept; re-run to resume", file=sys.stderr)
    return report.exit_code


def _write_demo_plate_map(path: Path) -> None:
    wells = list(DEMO_PLATE_MAP)
    columns = {"well": wells}
    for column in next(iter(DEMO_PLATE_MAP.values())):
        columns[column] = [DEMO_PLATE_MAP[w][column] for w in wells]
    write_csv(columns, path)


def _print_scores(scores, about) -> None:
    print(
        f"{'well':<6}{'nuclei':>7}{'truth':>7}{'cells':>7}{'truth':>7}"
        f"{'area px':>9}{'truth':>7}{'positive':>10}{'truth':>7}{'map':>6}"
    )
    for s in scores:
        print(
            f"{s.well:<6}{s.nuclei:>7}{s.true_nuclei:>7}{s.cells:>7}{s.true_cells:>7}"
            f"{s.cell_area:>9.0f}{s.true_cell_area:>7.0f}"
            f"{s.positive:>10.2f}{s.true_positive:>7.2f}{s.map_positive:>6.2f}"
        )
    nuclei, true_nuclei = sum(s.nuclei for s in scores), sum(s.true_nuclei for s in scores)
    cells, true_cells = sum(s.cells for s in scores), sum(s.true_cells for s in scores)
    print(f"{'all':<6}{nuclei:>7}{true_nuclei:>7}{cells:>7}{true_cells:>7}")
    print(
        f"positive: {about['feature']} above {about['threshold']:.4g} "
        "(Otsu's threshold over the plate's cells)"
    )


def demo_command(args) -> int:
    """Synthesise a plate of cells, run ``cell_profile``, compare counts, cell areas and the
    fraction of positive cells with the truth; exit 1 when a count is off by over 10 %."""
    _check_executor_args(args)
    if args.gui:
        # the one import of gui/ outside it, declared in pyproject.toml's import contracts
        from napari_openhcs.gui._launch import check_napari, open_results  # lazy: --gui only

        check_napari()  # before any work is done
    if args.out:
        _check_out(args.out)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="openhcs-demo-"))
    t0 = time.perf_counter()
    plate = write_plate(
        out / "plate", "imagexpress", content="cells", plate_map=DEMO_PLATE_MAP, **DEMO_PLATE
    )
    _write_demo_plate_map(out / "plate_map.csv")
    t_synth = time.perf_counter() - t0
    report = run_plate(
        plate,
        "cell_profile",
        out / "results",
        executor=args.executor,
        workers=args.workers,
        plate_map=out / "plate_map.csv",
        progress=ProgressBar(),
    )
    _print_failures(report)
    print(f"\nsynthetic plate of cells: {plate} ({t_synth:.1f} s to write)")
    print(f"plate map: {out / 'plate_map.csv'}")
    off = []
    if report.finished:
        scores, about = score_cell_run(plate, report.out)
        _print_scores(scores, about)
        off = [s.well for s in scores if s.count_error() > DEMO_COUNT_TOLERANCE]
    print(
        f"run: {report.seconds:.1f} s with {report.executor.get('workers')} "
        f"{report.executor.get('executor')} worker(s); total {time.perf_counter() - t0:.1f} s"
    )
    print(f"output: {report.out}")
    if off:
        print(
            f"counts are off by more than {DEMO_COUNT_TOLERANCE:.0%} of the truth in well(s) "
            f"{', '.join(off)} (exit 1)",
            file=sys.stderr,
        )
        return max(report.exit_code, 1)
    if args.gui and report.exit_code == 0:
        open_results(report.out)
    return report.exit_code
