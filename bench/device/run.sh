#!/usr/bin/env bash
# Runs ON the GPU machine (the device tool), after bench/device/prepare.sh staged .devicebench/
# and .gl/ here: unpacks Node, Dawn and the Vulkan loader, then runs bench/node-webgpu.ts.
# Results go to $OUT (results.json, results.md, log.txt). Extra arguments go to the bench; BENCH_JS
# picks another bundle (a baseline built from an older commit, to compare on the same machine).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/out/node-webgpu}
mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
if [ -n "$icd" ]; then export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; fi
echo "vulkan ICD: ${icd:-none found}"
W=$(mktemp -d)
xz -dc .devicebench/node.xz > "$W/node" && chmod +x "$W/node"
xz -dc .devicebench/dawn.node.xz > "$W/dawn.node"
xz -dc .devicebench/photo-2144x1424.rgb.xz > "$W/photo-2144x1424.rgb"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
"$W/node" "${BENCH_JS:-.devicebench/bench.cjs}" --dawn "$W/dawn.node" --photo "$W/photo-2144x1424.rgb" \
  --commit "$(tr '\n' ' ' < .devicebench/COMMIT)" --out "$OUT" "$@" 2>&1 | tee "$OUT/log.txt"
