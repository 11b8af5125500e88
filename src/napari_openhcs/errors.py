"""Exception types. Messages name what and where, so a biologist can act on them.

The command line maps ``InputError`` (bad plate, pipeline or arguments, found before anything
is written) to exit code 2, ``RunError`` (stopped while running) to exit code 1 and
``Cancelled`` to 130.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


class OpenHCSError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(OpenHCSError):
    """Bad input found before anything was written: exit code 2."""


class PlateError(InputError):
    """A plate folder or OME-Zarr plate that cannot be read as asked."""


class PipelineError(InputError):
    """A pipeline that does not validate against the registry or the plate."""


class UnknownFunctionError(PipelineError, LookupError):
    """A function reference that is not registered; the message names close matches."""


class FunctionUnavailableError(PipelineError):
    """A registered function whose library or device is missing here (the reason is given)."""


class RunError(OpenHCSError):
    """The run stopped on an error while running (disk full, output unwritable): exit code 1."""


class GPUOutOfMemoryError(OpenHCSError, MemoryError):
    """A GPU function ran out of device memory even after freeing caches and retrying."""


def exit_code(call: Callable[[], int | None]) -> int:
    """Run ``call`` and return its exit code, turning the package's errors into theirs.

    ``InputError`` gives 2, ``RunError`` 1 and Ctrl-C 130, each with its message on stderr;
    other exceptions propagate (a bug shows its traceback). The console script and the
    scripts ``napari-openhcs export`` writes both end here, so they agree.
    """
    try:
        return int(call() or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130


class Cancelled(Exception):
    """The run was cancelled; finished units were reported, the rest were not run.

    Raised by every executor's ``run_units`` and ``call`` after ``cancel()``; not an
    ``OpenHCSError``, since nothing went wrong.
    """
