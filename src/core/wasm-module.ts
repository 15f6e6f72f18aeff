/**
 * Instantiating the project's hand-written WebAssembly modules (simd/photo-kernels.wat,
 * backends/heap-kernels.wat). The WebAssembly API is typed here by the little that is used:
 * core's lib is plain ES2022 (no DOM, no Node types).
 */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** compiled modules by their bytes (null: not valid here, e.g. no SIMD) */
const compiled = new WeakMap<Uint8Array, object | null>();

/**
 * The exports of `bytes` instantiated with `imports`, or null where it cannot run: no WebAssembly,
 * a module this engine does not validate (no SIMD), a CSP without 'wasm-unsafe-eval', or imports
 * that do not link (e.g. a shared memory for an unshared import). Callers then run their JS code.
 * Each module is compiled once per realm.
 */
export function instantiateWasm<T>(bytes: Uint8Array, imports: object = {}): T | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return null;
  try {
    let mod = compiled.get(bytes);
    if (mod === undefined) {
      mod = api.validate(bytes) ? new api.Module(bytes) : null;
      compiled.set(bytes, mod);
    }
    return mod ? (new api.Instance(mod, imports).exports as T) : null;
  } catch {
    return null;
  }
}
