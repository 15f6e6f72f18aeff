/**
 * Reusable memory for the temporaries of the synchronous photo stages (FOV, quality gate, preprocessing, outlines).
 *
 * Why: each analysis used to allocate ~50 MB of fresh typed arrays, most of them 1–3 MB images at 512². A fresh
 * array is fresh memory: the OS maps zeroed pages in on first write, one fault per 4 KB. Chromium maps every
 * array ≥ ~1 MB directly and unmaps it when it is collected (PartitionAlloc's direct maps), so it pays that every
 * time; Node's allocator mostly reuses freed memory. Measured in a Chromium 156 page here, each time: a new
 * 256 KB array filled 0.8–1.5 ms, 1 MB 3.5–8 ms, 4 MB 14–27 ms; refilling a kept 4 MB one 0.1 ms. On this project's VM a first touch costs ~14 µs per page
 * (≈ 3.6 ms per MB; a laptop: ~0.1–0.3 ms per MB), which made the photo stages in Chromium ~1.7 × slower than
 * the same code in Node. External memory also counts towards V8's GC heuristics. A slot keeps one buffer,
 * grown to the largest request, for the life of the realm.
 *
 * Rules that make this safe in a single-threaded realm: an array from a slot is valid until the same slot is
 * asked again; it is never returned to a caller, never stored, and never kept across an `await` (another
 * analysis could run in between). Its contents are unspecified: zero it when the code relies on zeros.
 * Slots are per call site (one `scratchSlot()` per temporary), so two temporaries never share memory.
 */

/** One reusable buffer; views of it are typed and sized per request. */
export interface ScratchSlot {
  /** a Float32Array of length n over the slot's memory (contents unspecified) */
  f32(n: number): Float32Array;
  /** a Uint8Array of length n over the slot's memory (contents unspecified) */
  u8(n: number): Uint8Array;
  /** an Int32Array of length n over the slot's memory (contents unspecified) */
  i32(n: number): Int32Array;
  /** a Float64Array of length n over the slot's memory (contents unspecified) */
  f64(n: number): Float64Array;
}

const slots: { buf: ArrayBuffer | null }[] = [];
/** Released leases, by length, waiting for the next lease of that length (see {@link leaseF32}). */
const leased = new Map<number, Float32Array[]>();
/** Released arrays kept per length: one per analysis that may run at the same time, and one spare. */
const LEASES_KEPT = 2;

/** Bytes held by every slot of this realm, and by released leases kept for reuse (tests and diagnostics). */
export function scratchBytes(): number {
  let n = 0;
  for (const s of slots) n += s.buf?.byteLength ?? 0;
  for (const list of leased.values()) for (const a of list) n += a.byteLength;
  return n;
}

/** Drops every slot's buffer and every kept lease (the next request allocates again): for a realm that is done with photos for a while. */
export function releaseScratch(): void {
  for (const s of slots) s.buf = null;
  leased.clear();
}

/**
 * A Float32Array of length n for a temporary that lives across awaits within one analysis (the model input, the
 * FOV mask on the model grid), which a slot cannot hold: another analysis may run during an await. The array is
 * the caller's alone until it hands it back with {@link returnLease}; then a later lease of the same length gets
 * the same memory, already touched, instead of fresh pages (see above). Contents unspecified.
 * Never lease an array that leaves the analysis (a result, or a callback's argument).
 */
export function leaseF32(n: number): Float32Array {
  return leased.get(n)?.pop() ?? new Float32Array(n);
}

/**
 * Hands a leased array back for reuse. The caller must not touch it afterwards, nor keep anything that still reads
 * it (a tensor made from it on a backend that keeps the caller's array: dispose that first).
 */
export function returnLease(a: Float32Array): void {
  // a view (subarray) is not the whole buffer: never reuse it as one
  if (a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
  const list = leased.get(a.length) ?? [];
  if (list.length < LEASES_KEPT && !list.includes(a)) list.push(a);
  leased.set(a.length, list);
}

/** Leases taken by one job (an analysis) and handed back together, in its `finally`. */
export interface LeaseGroup {
  /** {@link leaseF32}, remembered for {@link LeaseGroup.returnAll} */
  f32(n: number): Float32Array;
  /** {@link returnLease} for every array this group leased */
  returnAll(): void;
}

/** A new, empty {@link LeaseGroup}. */
export function leaseGroup(): LeaseGroup {
  const taken: Float32Array[] = [];
  return {
    f32(n) {
      const a = leaseF32(n);
      taken.push(a);
      return a;
    },
    returnAll() {
      for (const a of taken.splice(0)) returnLease(a);
    },
  };
}

/**
 * Fills every slot's memory with `byte` (0xff: NaN floats, -1 ints), so a test can show that no result depends
 * on what an earlier call left there.
 * @internal
 */
export function fillScratchForTests(byte: number): void {
  for (const s of slots) if (s.buf) new Uint8Array(s.buf).fill(byte);
  for (const list of leased.values()) for (const a of list) new Uint8Array(a.buffer).fill(byte);
}

/** A new slot. Call once per call site, at module level. */
export function scratchSlot(): ScratchSlot {
  const s: { buf: ArrayBuffer | null } = { buf: null };
  slots.push(s);
  const bytes = (n: number): ArrayBuffer => {
    if (!s.buf || s.buf.byteLength < n) {
      // a little headroom, so photos of slightly different shapes do not each grow the buffer
      s.buf = new ArrayBuffer(Math.ceil((n * 1.0625) / 4096) * 4096);
    }
    return s.buf;
  };
  return {
    f32: (n) => new Float32Array(bytes(n * 4), 0, n),
    u8: (n) => new Uint8Array(bytes(n), 0, n),
    i32: (n) => new Int32Array(bytes(n * 4), 0, n),
    f64: (n) => new Float64Array(bytes(n * 8), 0, n),
  };
}
