/** Milliseconds from a monotonic clock where there is one (browsers, workers, Node), else Date.now(). */
export const now = (): number => {
  const p = (globalThis as { performance?: { now(): number } }).performance;
  return p ? p.now() : Date.now();
};
