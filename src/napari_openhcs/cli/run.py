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
from napari_openhcs.registry import get_info

#: The demo plate: small enough for a 2-core laptop, big enough to show the pipeline at work.
DEMO_PLATE = {
    "wells": ["A01", "A02", "A03", "B01", "B02", "B03"],
    "sites": 2,
    "channels": 2,
    "z": 3,
    "size": 256,
    "seed": 0,
}


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


def demo_command(args) -> int:
    """Synthesise a plate, run ``nuclei_count``, compare counts with the ground truth."""
    _check_executor_args(args)
    if args.gui:
        # the one import of gui/ outside it, declared in pyproject.toml's import contracts
        from napari_openhcs.gui._launch import check_napari, open_results  # lazy: --gui only

        check_napari()  # before any work is done
    if args.out:
        _check_out(args.out)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="openhcs-demo-"))
    t0 = time.perf_counter()
    plate = write_plate(out / "plate", "imagexpress", **DEMO_PLATE)
    t_synth = time.perf_counter() - t0
    truth = json.loads((Path(plate) / "ground_truth.json").read_text())
    report = run_plate(
        plate,
        "nuclei_count",
        out / "results",
        executor=args.executor,
        workers=args.workers,
        progress=ProgressBar(),
    )
    _print_failures(report)
    print(f"\nsynthetic plate: {plate} ({t_synth:.1f} s to write)")
    print(f"{'well':<6}{'counted':>9}{'truth':>8}{'error':>9}")
    total_counted = total_truth = 0
    for well in sorted(report.wells):
        info = report.wells[well]
        expected = sum(truth["counts"].get(well, {}).values())
        counted = (info.get("aggregates") or {}).get("object_count")
        if counted is None:
            print(f"{well:<6}{'-':>9}{expected:>8}   {info['status']}")
            continue
        total_counted += counted
        total_truth += expected
        err = (counted - expected) / expected * 100 if expected else 0.0
        print(f"{well:<6}{counted:>9}{expected:>8}{err:>8.1f}%")
    if total_truth:
        print(
            f"{'all':<6}{total_counted:>9}{total_truth:>8}"
            f"{(total_counted - total_truth) / total_truth * 100:>8.1f}%"
        )
    print(
        f"run: {report.seconds:.1f} s with {report.executor.get('workers')} "
        f"{report.executor.get('executor')} worker(s); total {time.perf_counter() - t0:.1f} s"
    )
    print(f"output: {report.out}")
    if args.gui and report.exit_code == 0:
        open_results(report.out)
    return report.exit_code
