#!/usr/bin/env bash
# The GPU figures in one run on a lent GPU machine (issue 21; SAM 3's objects figure for issue
# 18): the CUDA tests, then the benchmarks in the order of their worth, each stopped at its
# time limit and all of them within BUDGET seconds, writing their JSON lines and logs to OUT.
#
#   bash benchmarks/gpu_figures.sh OUT [BUDGET] [STEP ...]
#
# STEPs, in the order given (default: all). Seconds each took on an H200 on 2026-12-04, for
# planning a lease of 15 minutes (a machine's start takes another minute or two):
#   tests           35   the CUDA oracle tests (pytest -m gpu)
#   objects_smoke   30   SAM 3 concept tracking on CUDA, reduced size, 1 and 16 objects
#   engine_tiny1   130   sam2.1-tiny, 1 object, 200 frames (inductor compiles for ~55 s)
#   engine_tiny10  170   the same with 10 objects (estimated: not run whole, see below)
#   engine_large1  170   sam2.1-large, 1 object (compile ~70 s)
#   engine_large10 200   estimated, not run yet
#   objects_full   120   SAM 3 at full size, 1, 16 and 128 objects, ours and the oracle (est.)
#   memory         240   peak GPU memory and host RSS at 300 and 3,000 frames (300: 16 s)
# docs/performance.md says which figures exist and which command the next lease should run.
# Python packages the machine lacks travel as wheels in .whl/ (made here by
# benchmarks/gpu_wheels.sh); they are installed to /tmp/site first. Results: OUT/<step>.jsonl, OUT/log.txt
# (stderr of every step), OUT/env.txt (GPU, driver, torch and CUDA versions).
set -u
out=${1:?usage: gpu_figures.sh OUT [BUDGET] [STEP ...]}
budget=${2:-540}
shift $(($# < 2 ? $# : 2))
steps=${*:-tests objects_smoke engine_tiny1 engine_tiny10 engine_large1 engine_large10 objects_full memory}
start=$(date +%s)
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD
wheels=${WHEELS:-.whl}
if compgen -G "$wheels/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$wheels"/*.whl >>"$out/log.txt" 2>&1 || exit 1
  export PYTHONPATH=/tmp/site:$PWD
fi
{
  nvidia-smi
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
  nproc
} >"$out/env.txt" 2>&1

# run NAME LIMIT CMD...: CMD's stdout to OUT/NAME.jsonl, stopped at LIMIT or the budget's end
run() {
  local name=$1 limit=$2 left
  shift 2
  left=$((budget - ($(date +%s) - start) - 5))
  ((left < limit)) && limit=$left
  if ((limit < 20)); then
    echo "== $name skipped: budget spent" >>"$out/log.txt"
    return
  fi
  echo "== $name (limit ${limit}s) $(date +%T)" >>"$out/log.txt"
  timeout "$limit" "$@" >>"$out/$name.jsonl" 2>>"$out/log.txt"
  echo "== $name rc=$? after $(($(date +%s) - start))s" >>"$out/log.txt"
}

sam2="benchmarks/engine_vs_sam2.py --image-sizes 1024 --frames 200 --configs official-bf16"
sam2="$sam2 ecoseg-bf16 ecoseg-bf16-compiled"
for step in $steps; do
  case $step in
  tests) run tests 90 python3 -m pytest -m gpu tests/sam2/test_oracle_image.py -q -s \
    -p no:cacheprovider ;;
  objects_smoke) run objects_smoke 60 python3 benchmarks/objects_bench.py --device cuda \
    --objects 1 16 --frames 3 ;;
  engine_tiny1) run engine_tiny1 170 python3 $sam2 official-fp32 --variants sam2.1-tiny \
    --objects 1 ;;
  engine_tiny10) run engine_tiny10 200 python3 $sam2 --variants sam2.1-tiny --objects 10 ;;
  engine_large1) run engine_large1 200 python3 $sam2 --variants sam2.1-large --objects 1 ;;
  engine_large10) run engine_large10 240 python3 $sam2 --variants sam2.1-large --objects 10 ;;
  objects_full) run objects_full 120 python3 benchmarks/objects_bench.py --device cuda \
    --config full --objects 1 16 128 --frames 4 --oracle ;;
  memory) run memory 240 python3 benchmarks/memory_bench.py --device cuda --bf16 \
    --image-size 1024 --frames 300 3000 --official-frames 50 200 ;;
  *) echo "unknown step $step" >>"$out/log.txt" ;;
  esac
done
echo "== done after $(($(date +%s) - start))s" >>"$out/log.txt"
grep -E "^== |passed|failed|Error|error" "$out/log.txt" | tail -n 30
# the figures that decide the goals, one short line each (all of them are in the files)
python3 - "$out" <<'PY'
import json, pathlib, sys

keys = ("config", "objects", "variant", "steady_wall_s_per_frame", "startup_wall_s", "comparison",
        "steady_speedup_wall", "goal_ge_1_5", "time_ratio", "goal_le_2", "engine", "frames",
        "peak_gpu_mb", "peak_gpu_growth_mb", "rss_growth_mb", "impl", "s_per_frame",
        "ratio_vs_1_objects", "speedup_vs_transformers", "error")
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.jsonl")):
    for line in f.read_text().splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        print(f.stem, json.dumps({k: r[k] for k in keys if k in r}))
PY
