import { describe, expect, it } from 'vitest';
import { BACKEND_ORDER } from './api';
import { autoOrder, isSoftwareRenderer, type GpuProbe } from './gpu-probe';

const probe = (backend: GpuProbe['backend'], renderer: string, software = isSoftwareRenderer(renderer), available = true): GpuProbe => ({ backend, available, software, renderer });

describe('gpu-probe: auto does not pick a software-rendered GPU', () => {
  it('recognises software rasterisers by name, and not real GPUs', () => {
    for (const s of [
      'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)', // this machine's Chromium
      'google swiftshader',
      'llvmpipe (LLVM 15.0.6, 256 bits)',
      'ANGLE (Mesa, llvmpipe (LLVM 12.0.0, 256 bits), OpenGL 4.5)',
      'lavapipe',
      'ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)',
      'Google SwiftShader',
    ])
      expect(isSoftwareRenderer(s), s).toBe(true);
    for (const s of [
      'ANGLE (Intel, Intel(R) UHD Graphics 620 (0x00005917) Direct3D11 vs_5_0 ps_5_0, D3D11)',
      'ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0, D3D11)',
      'Apple M1',
      'nvidia hopper',
      'AMD Radeon Pro 5500M OpenGL Engine',
      '',
    ])
      expect(isSoftwareRenderer(s), s).toBe(false);
  });

  it('moves software GPU backends after wasm, keeps hardware ones first, and leaves orders without wasm alone', () => {
    const sw = (b: GpuProbe['backend']) => probe(b, 'SwiftShader');
    const hw = (b: GpuProbe['backend']) => probe(b, 'NVIDIA GeForce RTX 3060');
    expect(autoOrder(BACKEND_ORDER, [sw('webgpu'), sw('webgl')])).toEqual({ order: ['wasm', 'webgpu', 'webgl', 'cpu'], demoted: [sw('webgpu'), sw('webgl')] });
    expect(autoOrder(BACKEND_ORDER, [hw('webgpu'), hw('webgl')])).toEqual({ order: [...BACKEND_ORDER], demoted: [] });
    // a real WebGPU adapter beside a software WebGL (or the reverse): only the software one moves
    expect(autoOrder(BACKEND_ORDER, [hw('webgpu'), sw('webgl')]).order).toEqual(['webgpu', 'wasm', 'webgl', 'cpu']);
    expect(autoOrder(['webgl', 'wasm', 'cpu'], [sw('webgl')]).order).toEqual(['wasm', 'webgl', 'cpu']);
    // a fallback adapter counts as software even when its name says nothing
    expect(autoOrder(BACKEND_ORDER, [probe('webgpu', '', true)]).order).toEqual(['webgl', 'wasm', 'webgpu', 'cpu']);
    // unavailable probes and backends not in the order change nothing
    expect(autoOrder(['webgl', 'wasm'], [probe('webgpu', 'SwiftShader', true, false), sw('webgpu')]).order).toEqual(['webgl', 'wasm']);
    expect(autoOrder(['webgpu', 'webgl', 'cpu'], [sw('webgl')])).toEqual({ order: ['webgpu', 'webgl', 'cpu'], demoted: [] });
  });
});
