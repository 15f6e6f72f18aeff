/**
 * Is the GPU a real one? 'auto' should not pick a GPU backend that runs on a software renderer.
 *
 * Laptops with a blocklisted or missing GPU driver, virtual machines and remote desktops give the browser a
 * software rasteriser (SwiftShader, llvmpipe, Microsoft Basic Render Driver) behind WebGL and sometimes WebGPU.
 * tfjs' shader backends then run on the CPU through a GPU emulator, far slower than its wasm backend. Measured on
 * the 2-core bench machine (bench/results.md, demo model, Chromium): one analysis 0.40 s on wasm, 3.4 s on
 * SwiftShader WebGL, 10.8 s on SwiftShader WebGPU; the app's cold start 1.5 s, 6.8 s and 16.9 s.
 * So 'auto' tries such backends only after wasm. A backend chosen by name is still used as asked.
 */
import type { BackendName } from './api';

/** Renderer names of software rasterisers (Chromium's SwiftShader, Mesa's llvmpipe / softpipe / lavapipe, Windows' WARP). */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|lavapipe|software rasteri[sz]er|basic render driver/i;

/** True when a WebGL renderer string or WebGPU adapter description names a software rasteriser. */
export function isSoftwareRenderer(name: string): boolean {
  return SOFTWARE_RENDERER.test(name);
}

/** What a GPU backend would run on. */
export interface GpuProbe {
  backend: 'webgpu' | 'webgl';
  available: boolean;
  software: boolean;
  /** the renderer or adapter, as the browser names it ('' when unknown) */
  renderer: string;
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** Asks for a WebGPU adapter: a fallback adapter (the browser's own software one) or a software renderer is `software`. */
export async function probeWebGpu(): Promise<GpuProbe> {
  const none: GpuProbe = { backend: 'webgpu', available: false, software: false, renderer: '' };
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return none;
  try {
    const adapter = (await gpu.requestAdapter()) as { info?: AdapterInfoLike; isFallbackAdapter?: boolean } | null;
    if (!adapter) return none;
    const info = adapter.info ?? {};
    const renderer = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
    const software = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || isSoftwareRenderer(renderer);
    return { backend: 'webgpu', available: true, software, renderer };
  } catch {
    return none;
  }
}

/** Opens a 1×1 WebGL context (≈10 ms) to read its renderer, then releases it. */
export function probeWebGl(): GpuProbe {
  const none: GpuProbe = { backend: 'webgl', available: false, software: false, renderer: '' };
  if (typeof OffscreenCanvas === 'undefined') return none;
  try {
    const canvas = new OffscreenCanvas(1, 1);
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (!gl) return none;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { backend: 'webgl', available: true, software: isSoftwareRenderer(renderer), renderer };
  } catch {
    return none;
  }
}

/**
 * The 'auto' order with the GPU backends that `probes` found software-rendered moved after wasm (kept, as
 * fallbacks, in their order), and those probes. Orders without wasm are returned unchanged.
 */
export function autoOrder(order: readonly BackendName[], probes: readonly GpuProbe[]): { order: BackendName[]; demoted: GpuProbe[] } {
  const at = order.indexOf('wasm');
  const demoted = at < 0 ? [] : probes.filter((p) => p.available && p.software && order.indexOf(p.backend) >= 0 && order.indexOf(p.backend) < at);
  if (demoted.length === 0) return { order: [...order], demoted: [] };
  const slow = new Set<BackendName>(demoted.map((p) => p.backend));
  const kept = order.filter((b) => !slow.has(b));
  const wasm = kept.indexOf('wasm');
  const moved = order.filter((b) => slow.has(b));
  return { order: [...kept.slice(0, wasm + 1), ...moved, ...kept.slice(wasm + 1)], demoted };
}
