#!/usr/bin/env bash
# Stages everything the GPU bench needs on a machine with no Node and no package registry
# (the device machine; see bench/README.md "Real GPU"): into .devicebench/ (gitignored),
# which the device call carries.
#   node.xz        this machine's node binary (x86-64), xz-compressed
#   dawn.node.xz   Dawn for Node (npm package webgpu, pinned), the only native code
#   bench.cjs      bench/node-webgpu.ts + tfjs + core, one CommonJS file (esbuild)
#   photo-2144x1424.rgb.xz  the bench photo (bench/out/photo.jpg) as raw RGB: no decoder travels
#   COMMIT         the commit measured
# and .gl/ (the Vulkan/EGL loaders as Debian packages, the device README's recipe).
set -euo pipefail
cd "$(dirname "$0")/../.."
WEBGPU_VERSION=0.6.2
D=.devicebench
mkdir -p "$D" bench/out
grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude

[ -f bench/out/photo.jpg ] || node node_modules/tsx/dist/cli.mjs scripts/make-bad-inputs.ts --photo 2144x1424 bench/out/photo.jpg
node -e "require('sharp')('bench/out/photo.jpg').removeAlpha().raw().toBuffer({resolveWithObject:true}).then(({data,info})=>{if(info.width!==2144||info.height!==1424)throw new Error('photo size '+info.width+'x'+info.height);require('fs').writeFileSync('bench/out/photo-2144x1424.rgb',data)})"
xz -T2 -6 -c bench/out/photo-2144x1424.rgb > "$D/photo-2144x1424.rgb.xz"

if [ ! -f "$D/dawn.node.xz" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "webgpu@$WEBGPU_VERSION" >/dev/null && tar xzf "webgpu-$WEBGPU_VERSION.tgz" package/dist/linux-x64/dawn.node)
  mkdir -p bench/out/webgpu && cp "$tmp/package/dist/linux-x64/dawn.node" bench/out/webgpu/dawn.node
  xz -T2 -6 -c bench/out/webgpu/dawn.node > "$D/dawn.node.xz"
  rm -rf "$tmp"
fi
[ -f "$D/node.xz" ] || xz -T2 -6 -c "$(command -v node)" > "$D/node.xz"

node_modules/.bin/esbuild bench/node-webgpu.ts --bundle --platform=node --format=cjs --target=node20 \
  --outfile="$D/bench.cjs" --log-level=warning --define:import.meta.url=undefined
git rev-parse --short HEAD > "$D/COMMIT"
if ! git diff --quiet HEAD -- src bench; then echo "+uncommitted" >> "$D/COMMIT"; fi

if [ ! -d .gl ] || [ -z "$(ls .gl/*.deb 2>/dev/null)" ]; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq
  (cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
du -sh "$D" .gl
