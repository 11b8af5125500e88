#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run the test suite.
# This is the README's test command; .ci/run calls it unchanged. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Xvfb and the xcb libraries Qt 6 needs; pocl runs pyclesperanto's OpenCL kernels on the CPU.
  apt-get install -y -qq --no-install-recommends \
    xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-image0 libxcb-render-util0 \
    libxcb-xkb1 libxkbcommon-x11-0 libxcb-randr0 libxcb-shape0 libxcb-cursor0 libegl1 libgl1 \
    libfontconfig1 libdbus-1-3 pocl-opencl-icd ocl-icd-libopencl1 >/dev/null
fi

export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
PIP="python3 -m pip"
# The CPU build of torch first: a bare torch requirement would pull a multi-GB CUDA build.
$PIP install -q "torch==2.13.0"
$PIP install -q -e ".[all,test]"
# The tests' third-party function package (tests/fixtures/thirdparty_functions) is not
# installed: tests/conftest.py puts it on the path of the test processes only.

python3 -m pytest "$@"
