/** A one-line progress bar with ETA on stderr (plain lines when stderr is not a terminal). */
export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
}

const fmt = (ms: number): string => {
  if (!Number.isFinite(ms)) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(r).padStart(2, '0')}`;
};

export class ProgressBar {
  private readonly started = Date.now();
  private done = 0;
  constructor(private readonly total: number, private readonly out: ProgressSink, private readonly width = 24) {}

  /** `fraction` of the current item (0..1) refines the ETA while a slow image runs. */
  update(label: string, fraction = 0): void {
    if (!this.out.isTTY) return;
    this.out.write(`\r${this.line(label, fraction)}\x1b[K`);
  }

  /** Marks one item finished; non-TTY sinks get one line per item. */
  tick(label: string, status: string): void {
    this.done++;
    const line = `${this.line(label, 0)}  ${status}`;
    this.out.write(this.out.isTTY ? `\r${line}\x1b[K${this.done === this.total ? '\n' : ''}` : `${line}\n`);
  }

  private line(label: string, fraction: number): string {
    const progress = Math.min(this.total, this.done + fraction);
    const f = this.total ? progress / this.total : 1;
    const filled = Math.round(f * this.width);
    const elapsed = Date.now() - this.started;
    const eta = progress > 0 ? (elapsed / progress) * (this.total - progress) : Infinity;
    return `[${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${this.done}/${this.total} ${String(Math.round(f * 100)).padStart(3)}%  elapsed ${fmt(elapsed)}  ETA ${fmt(eta)}  ${label}`;
  }
}
