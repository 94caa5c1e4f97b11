#!/usr/bin/env bash
# The Python packages a lent GPU machine lacks (its image has torch, numpy, pandas, scipy,
# scikit-image, huggingface_hub, ...; no package index is reachable from it), as wheels in
# .whl/ for Python 3.12 on x86-64, to carry with `benchmarks/gpu_figures.sh` (which installs
# them). About 48 MB; a call may carry 64 MiB with the repository.
#
#   bash benchmarks/gpu_wheels.sh          # run here, in the repository's root
set -euo pipefail
mkdir -p .whl
plat=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
  --platform manylinux2014_x86_64)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${plat[@]}" -d .whl av==18.1.0 transformers==5.23.0 \
  hydra-core==1.3.8 omegaconf==2.3.1 pooch==1.9.0 platformdirs==4.14.9
# sources only on the index: pure-Python wheels built here (sam2 without its CUDA extension)
src=$(mktemp -d)
python3 -m pip download -q --no-deps --no-build-isolation -d "$src" sam2==1.1.0 iopath==0.1.10 \
  antlr4-python3-runtime==4.9.3
for f in "$src"/*; do
  SAM2_BUILD_CUDA=0 python3 -m pip wheel -q --no-deps --no-build-isolation -w .whl "$f"
done
rm -rf "$src"
du -sh .whl
