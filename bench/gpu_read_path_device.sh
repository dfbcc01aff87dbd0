#!/usr/bin/env bash
# Time the gpu-agent read path on a real GPU node, the code at a git ref ("before") against
# the working tree ("after"), with bench/gpu_read_path.py. It only reads the GPU: no limit,
# clock or mode is changed. Written for the `device` tool's H200 (no network, no pydantic).
#
# Here, once:   bash bench/gpu_read_path_device.sh prepare .gpu-read 90c6e81
#               (ignore .gpu-read in .git/info/exclude; it needs the pydantic wheels, as
#               tests/fixtures/gpu/README.md fetches them into .whl)
# There:        run(command="bash .gpu-read/run.sh", carry=[".gpu-read"], timeout_s=300)
# Results:      $OUT/<before|after>-<gpus>.json and log.txt; commit them under
#               bench/results/gpu_read_path_h200/ and re-run `python -m bench.gpu_sweep --read-path`.
set -euo pipefail
if [ "${1:-}" = prepare ]; then
    dir=${2:?folder}; ref=${3:?git ref of the before code}
    rm -rf "$dir"; mkdir -p "$dir/before" "$dir/after" "$dir/whl"
    git archive "$ref" drivers | tar -x -C "$dir/before"
    cp -r drivers "$dir/after/"; find "$dir" -name __pycache__ -prune -exec rm -rf {} +
    cp .whl/*.whl "$dir/whl/"; cp bench/gpu_read_path.py "$dir/"
    sed -n '/^# --- run ---$/,$p' "$0" | tail -n +2 >"$dir/run.sh"
    echo "prepared $dir"; exit 0
fi
echo "usage: $0 prepare DIR REF" >&2; exit 2
# --- run ---
#!/usr/bin/env bash
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-/tmp/out}; mkdir -p "$out"
cd "$here"
{
uname -r; nproc
nvidia-smi --query-gpu=name,driver_version,power.draw,power.limit,clocks.sm,pstate --format=csv
python3 -c "import sys, aiohttp, pynvml; print(sys.version, 'aiohttp', aiohttp.__version__)"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/hp-site whl/*.whl 2>&1 | tail -2
for run in "1 before" "1 after" "8 before" "8 after"; do
  set -- $run; gpus=$1; tree=$2; shift 2
  name="$tree-$gpus"
  echo "== $name"
  PYTHONPATH="$here/$tree:/tmp/hp-site" timeout 100 python3 gpu_read_path.py --backend nvml \
     --gpus "$gpus" --repeats 200 --label "$name" --out "$out/$name.json" "$@" \
     | python3 -c "import json,sys; d=json.load(sys.stdin); print({k: d.get(k) for k in ('read_ms','node_read_ms','overhead_ms','ping_ms')}); print(d.get('calls_us'))"
done
} 2>&1 | tee "$out/log.txt"
