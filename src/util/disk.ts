/**
 * Free disk space where the database lives. Below store.minFreeSpace the appliance refuses new
 * alerts with a temporary failure (SMTP 452, HTTP 503) so the sender keeps them and retries,
 * instead of saying "250" for something it may not be able to keep.
 */
import { statfs } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';

/** Bytes available to an unprivileged writer on the file system holding `dir` (f_bavail × f_bsize). */
export async function diskFree(dir: string): Promise<number> {
  const s = await statfs(nearestExisting(dir));
  return Number(s.bavail) * Number(s.bsize);
}

/** Total size of the file system holding `dir`. */
export async function diskSize(dir: string): Promise<number> {
  const s = await statfs(nearestExisting(dir));
  return Number(s.blocks) * Number(s.bsize);
}

/** The directory itself, or its nearest existing parent (dataDir may not exist before the first start). */
function nearestExisting(dir: string): string {
  let d = dir;
  for (let i = 0; i < 64 && !existsSync(d); i++) {
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return d;
}

export interface SpaceVerdict {
  ok: boolean;
  /** Bytes free when last measured (NaN when it could not be measured). */
  free: number;
  /** The threshold in force. */
  min: number;
}

/**
 * The check at each MAIL FROM / ingest request. statfs is cheap but not free: one measurement is
 * reused for `cacheMs` (a burst of mail asks once), and measurements never overlap. A file system
 * that cannot be measured counts as fine: the commit itself still fails safely (SQLITE_FULL → 451).
 */
export class DiskSpace {
  private last: { at: number; free: number } | null = null;
  private pending: Promise<number> | null = null;
  /** Since when free space has been below the threshold (null: it is not), for self-alarms. */
  lowSince: number | null = null;

  constructor(
    private readonly dir: string,
    private readonly minFree: () => number,
    private readonly now: () => number = Date.now,
    private readonly cacheMs = 500,
    private readonly measure: (dir: string) => Promise<number> = diskFree,
  ) {}

  /** Whether there is room for new alerts now. */
  async check(): Promise<SpaceVerdict> {
    const min = this.minFree();
    if (min <= 0 || this.dir === ':memory:') return { ok: true, free: this.last?.free ?? NaN, min };
    const t = this.now();
    let free: number;
    if (this.last && t - this.last.at < this.cacheMs) free = this.last.free;
    else {
      this.pending ??= this.measure(this.dir).then(
        (f) => { this.last = { at: this.now(), free: f }; this.pending = null; return f; },
        () => { this.pending = null; return NaN; },
      );
      free = await this.pending;
    }
    const ok = !(free < min);
    if (!ok) this.lowSince ??= t;
    else this.lowSince = null;
    return { ok, free, min };
  }

  /** Forget the cached figure (after pruning freed space, or in tests). */
  invalidate(): void {
    this.last = null;
  }
}
