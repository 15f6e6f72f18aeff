/**
 * A progress bar with rate and ETA on stderr (stdout stays clean for tables). On a TTY it
 * redraws one line; otherwise (CI logs, `| tee`) it prints a line every ~10 % or 30 s.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class Progress {
  private done = 0;
  private readonly t0 = Date.now();
  private lastPrint = 0;
  private lastFrac = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'img',
    private readonly stream: NodeJS.WriteStream | null = process.stderr,
  ) {
    this.tty = !!stream?.isTTY;
  }

  /** Adds n finished units; `extra` is appended (e.g. the running loss). */
  tick(n = 1, extra = ''): void {
    this.done += n;
    if (!this.stream) return;
    const now = Date.now();
    const frac = this.total > 0 ? this.done / this.total : 1;
    const finished = this.done >= this.total;
    if (this.tty) {
      if (now - this.lastPrint < 200 && !finished) return;
    } else if (!finished && frac - this.lastFrac < 0.1 && now - this.lastPrint < 30_000) {
      return;
    }
    this.lastPrint = now;
    this.lastFrac = frac;
    const line = this.line(extra);
    this.stream.write(this.tty ? `\r${line}\x1b[K${finished ? '\n' : ''}` : line + '\n');
  }

  line(extra = ''): string {
    const elapsed = (Date.now() - this.t0) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : NaN;
    const width = 24;
    const filled = this.total > 0 ? Math.round((width * Math.min(this.done, this.total)) / this.total) : width;
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const pct = this.total > 0 ? Math.floor((100 * this.done) / this.total) : 100;
    return `${this.label} [${bar}] ${this.done}/${this.total} ${pct}% ${rate.toFixed(2)} ${this.unit}/s ETA ${formatDuration(eta)} elapsed ${formatDuration(elapsed)}${extra ? ' ' + extra : ''}`;
  }

  get elapsedSeconds(): number {
    return (Date.now() - this.t0) / 1000;
  }
}
