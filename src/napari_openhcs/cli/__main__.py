"""``python -m napari_openhcs.cli``: the command line, as the console script runs it."""

import sys

from napari_openhcs.cli import main

sys.exit(main())
