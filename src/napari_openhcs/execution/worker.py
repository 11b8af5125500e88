"""A supervised worker process: ``python -m napari_openhcs.execution.worker``.

Started by the process executor with pipes on stdin/stdout. It runs one unit at a time and
answers with events and a result. Being started as a module (not by ``multiprocessing``) means
a user's ``__main__`` never re-runs here. SIGINT is ignored: Ctrl-C belongs to the supervisor,
which stops workers itself. Anything the user's functions print goes to stderr, because stdout
carries the protocol.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import traceback

from napari_openhcs import envvars
from napari_openhcs.execution.protocol import read_frame, write_frame


def serve(threads: int | None = None) -> int:
    """Serve units until the supervisor says stop or closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Keep the protocol on the original stdout; route everything else printed to stderr.
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)

    if threads:
        # lazy: the thread limits must be set before NumPy and the array libraries load
        from napari_openhcs.memory import limit_cpu_threads

        limit_cpu_threads(threads)

    write_frame(proto_out, ("ready", os.getpid()))
    while True:
        try:
            message = read_frame(proto_in)
        except EOFError:
            return 0
        kind = message[0]
        if kind == "stop":
            return 0
        if kind == "preload":
            _preload(message[1])
            continue
        if kind == "call":
            # ("call", token, "module:function", args): run any importable callable; used
            # for plate-level steps and previews. The result is sent back as is.
            _, token, target, args = message
            try:
                module_name, func_name = target.split(":")
                func = getattr(importlib.import_module(module_name), func_name)
                write_frame(proto_out, ("result", token, True, func(*args)))
            except BaseException as exc:  # noqa: BLE001 - reported to the supervisor
                write_frame(
                    proto_out, ("result", token, False, (repr(exc), traceback.format_exc()))
                )
            continue
        if kind == "unit":
            _, token, unit = message
            # lazy: the worker says "ready" before the engine and its libraries load
            from napari_openhcs.execution.unitrun import run_unit

            def emit(event, _token=token):
                write_frame(proto_out, ("event", _token, event))

            result = run_unit(unit, emit=emit)
            write_frame(proto_out, ("result", token, True, result))
            continue
        write_frame(proto_out, ("error", f"unknown message {kind!r}"))


def _preload(modules: list[str]) -> None:
    """Import the libraries the coming units use while the supervisor is still compiling."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the unit itself will report a real failure
            pass


if __name__ == "__main__":
    threads = int(envvars.read(envvars.WORKER_THREADS, "0")) or None
    sys.exit(serve(threads))
