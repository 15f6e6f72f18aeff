/**
 * Waits until the browser's own processes are quiet before a cold start is timed.
 *
 * Chromium 156 (headless) opens every new window with a "top-chrome" WebUI renderer (the omnibox popup and other
 * browser UI) that burns ~1.4 s of CPU (measured per context with /proc, .scratch of session 11), and on this
 * 2-core machine that ran beside the app's start and inflated it. A user's browser window is open before they
 * navigate to the app, so the timed navigation starts once the window has settled: total CPU of the browser's
 * processes under 5 % of a core over half a second, or after `maxMs`. Linux only (/proc); elsewhere a fixed wait.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** utime + stime (ms) summed over the processes whose command line contains `exe`. */
function browserCpuMs(exe: string): number | null {
  let total = 0;
  let dirs: string[];
  try {
    dirs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of dirs) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(exe)) continue;
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
    } catch {
      /* the process ended meanwhile */
    }
  }
  return total;
}

/** Returns how long it waited (ms). `exe`: a string in the browser processes' command lines, e.g. 'chromium'. */
export async function settleBrowser(exe = 'chromium', maxMs = 10_000): Promise<number> {
  const t0 = Date.now();
  const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
  let last = browserCpuMs(exe);
  if (last === null) {
    await sleep(3000);
    return Date.now() - t0;
  }
  while (Date.now() - t0 < maxMs) {
    await sleep(500);
    const now = browserCpuMs(exe) ?? 0;
    if (now - last < 25) break;
    last = now;
  }
  return Date.now() - t0;
}
