#!/usr/bin/env bash
# GPU test run on the device machine (Python 3.12 with torch + CuPy; missing wheels carried in .whl/).
# Usage there: bash scripts/gpu-tests.sh   ($OUT receives the log when set)
set -o pipefail
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src:$PWD/tests/fixtures/thirdparty_functions
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch, cupy, sys; print(sys.version.split()[0], 'torch', torch.__version__, 'cupy', cupy.__version__)"
python3 -c "import pyclesperanto as cle; print('cle', cle.__version__, cle.get_device())" 2>&1 | tail -1
python3 -m pytest tests/memory tests/functions tests/registry/test_registry_gpu.py tests/execution/test_run_gpu.py -q -p no:cacheprovider -m gpu -W ignore::DeprecationWarning 2>&1 | tee "${OUT:-/tmp}/gpu_tests.log" | tail -25
python3 benchmarks/gpu_plate_bench.py --size 2048 --wells 8 --workers 8 2>&1 | tee "${OUT:-/tmp}/gpu_bench.log" | tail -8
python3 benchmarks/gpu_measure_bench.py --size 1080 --cells 240 --repeat 5 2>&1 | tee "${OUT:-/tmp}/gpu_measure_bench.log" | tail -16
# Cell profiling of one 1080 px site: the CPU rows (intensity, size and shape, cp_measure beside) and
# the GPU measure_cells rows side by side, and the plate's sites per second (2 workers); capped at 4 min.
timeout 240 python3 benchmarks/cell_profile_bench.py --families intensity,sizeshape --repeat 3 --plate 2>&1 | tee "${OUT:-/tmp}/cell_profile_bench.log" | tail -32
