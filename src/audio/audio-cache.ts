/**
 * The prompt cache in audioCacheDir: one sealed WAV file per key (see cache-entry.ts).
 * - Writes are atomic: a temporary file is written, synced and renamed into place; temporary
 *   files are never served (and old leftovers are removed on open).
 * - A file that fails its integrity check is deleted and reported as a miss.
 * - Total size is capped: least recently used entries are evicted (last use is kept in the file's
 *   mtime, written at most once a minute per entry, so the order survives restarts). Entries used within the grace period are kept even
 *   over the cap, so a WAV handed to a player is not deleted before the player opens it.
 * - Concurrent getOrCreate() calls for one key run the producer once.
 * - Recently used entries are also kept in memory once verified; a memory hit still checks with
 *   stat() that the file is there with the same size (another process may have evicted it).
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { silentLogger } from '../util/log.js';
import { isIntactEntry, sealEntry } from './cache-entry.js';

export interface AudioCacheOptions {
  dir: string;
  maxBytes: number;
  logger?: Logger;
  clock?: Clock;
  /** Entries used this recently are not evicted (default 10 minutes). */
  graceMs?: number;
  /** Recently used verified entries kept in memory (default 8 MB: the fixed phrases and the last messages; 0 disables). */
  memoryBytes?: number;
}

export interface CacheEntry {
  path: string;
  /** The sealed WAV file's bytes. */
  wav: Buffer;
  fromCache: boolean;
}

const ENTRY_NAME = /^([0-9a-f]{64})\.wav$/;
const TEMP_PREFIX = '.tmp-';
const STALE_TEMP_MS = 60 * 60 * 1000;
/** Last-use times are written to disk at most this often per entry. */
const TOUCH_INTERVAL_MS = 60 * 1000;

export class AudioCache {
  private readonly index = new Map<string, { size: number; lastUsed: number }>();
  private readonly inflight = new Map<string, Promise<CacheEntry>>();
  private total = 0;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly graceMs: number;
  private readonly memoryCap: number;
  /** Verified entries in use order (Map iteration order = least recent first). */
  private readonly memory = new Map<string, { wav: Buffer; mtimeMs: number }>();
  private memoryTotal = 0;
  private readonly touched = new Map<string, number>();

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    opts: AudioCacheOptions,
  ) {
    this.logger = opts.logger ?? silentLogger;
    this.clock = opts.clock ?? systemClock;
    this.graceMs = opts.graceMs ?? 10 * 60 * 1000;
    this.memoryCap = opts.memoryBytes ?? 8 * 1024 * 1024;
  }

  static async open(opts: AudioCacheOptions): Promise<AudioCache> {
    if (!(opts.maxBytes > 0)) throw new RangeError('cache size cap must be positive');
    await mkdir(opts.dir, { recursive: true });
    const cache = new AudioCache(opts.dir, opts.maxBytes, opts);
    await cache.scan();
    await cache.evict(undefined);
    return cache;
  }

  /** Key for the given parts: SHA-256 over a canonical JSON encoding. */
  static keyOf(parts: Record<string, string | number>): string {
    const canonical = JSON.stringify(Object.keys(parts).sort().map((k) => [k, parts[k]]));
    return createHash('sha256').update(canonical).digest('hex');
  }

  pathOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('bad cache key');
    return join(this.dir, `${key}.wav`);
  }

  get sizeBytes(): number {
    return this.total;
  }

  get entryCount(): number {
    return this.index.size;
  }

  /** The entry, or undefined when missing or damaged (a damaged file is removed). */
  /** Lookups since start: found (in memory or on disk) or not (synthesized then). */
  readonly lookups = { hits: 0, misses: 0 };

  async get(key: string): Promise<CacheEntry | undefined> {
    const found = await this.lookup(key);
    if (found) this.lookups.hits++;
    else this.lookups.misses++;
    return found;
  }

  private async lookup(key: string): Promise<CacheEntry | undefined> {
    const path = this.pathOf(key);
    const kept = this.memory.get(key);
    if (kept) {
      const st = statSync(path, { throwIfNoEntry: false });
      if (st && st.size === kept.wav.length && st.mtimeMs === kept.mtimeMs) {
        await this.used(key, path, kept.wav);
        return { path, wav: kept.wav, fromCache: true };
      }
      this.dropMemory(key);
    }
    let wav: Buffer;
    try {
      wav = await readFile(path);
    } catch {
      this.forget(key);
      return undefined;
    }
    if (!isIntactEntry(wav)) {
      this.logger.warn('audio.cache_damaged', { key: key.slice(0, 12), bytes: wav.length });
      this.forget(key);
      await unlink(path).catch(() => undefined);
      return undefined;
    }
    await this.used(key, path, wav);
    return { path, wav, fromCache: true };
  }

  /** Records a use: index order, memory copy, and (throttled) the file's mtime. */
  private async used(key: string, path: string, wav: Buffer): Promise<void> {
    const now = this.clock.now();
    const prev = this.index.get(key);
    this.total += wav.length - (prev?.size ?? 0);
    this.index.set(key, { size: wav.length, lastUsed: now });
    const last = this.touched.get(key);
    if (last === undefined || Math.abs(now - last) >= TOUCH_INTERVAL_MS) {
      this.touched.set(key, now);
      const t = new Date(now);
      await utimes(path, t, t).catch(() => undefined);
    }
    this.remember(key, path, wav);
  }

  /** Keeps a verified entry in memory together with the file's mtime as it is now. */
  private remember(key: string, path: string, wav: Buffer): void {
    this.dropMemory(key);
    if (wav.length > this.memoryCap / 4) return;
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    this.memory.set(key, { wav, mtimeMs: st.mtimeMs });
    this.memoryTotal += wav.length;
    for (const [k, e] of this.memory) {
      if (this.memoryTotal <= this.memoryCap) break;
      this.memory.delete(k);
      this.memoryTotal -= e.wav.length;
    }
  }

  private dropMemory(key: string): void {
    const e = this.memory.get(key);
    if (!e) return;
    this.memory.delete(key);
    this.memoryTotal -= e.wav.length;
  }

  /** Stores a WAV (chunks must run to the end of the buffer) under key; returns the entry. */
  async put(key: string, wav: Buffer): Promise<CacheEntry> {
    const path = this.pathOf(key);
    const sealed = sealEntry(wav);
    const tmp = join(this.dir, `${TEMP_PREFIX}${key.slice(0, 16)}-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(sealed);
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    await fh.close();
    const t = new Date(this.clock.now());
    await utimes(tmp, t, t).catch(() => undefined); // last use lives in mtime, on the injected clock
    try {
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    const prev = this.index.get(key);
    this.total += sealed.length - (prev?.size ?? 0);
    this.index.set(key, { size: sealed.length, lastUsed: this.clock.now() });
    this.touched.set(key, this.clock.now());
    this.remember(key, path, sealed);
    await this.evict(key);
    return { path, wav: sealed, fromCache: false };
  }

  /** get(), or on a miss make() + put(); concurrent calls for one key share one make(). */
  getOrCreate(key: string, make: () => Promise<Buffer>): Promise<CacheEntry> {
    const running = this.inflight.get(key);
    if (running) return running;
    const job = (async () => {
      const hit = await this.get(key);
      if (hit) return hit;
      return this.put(key, await make());
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, job);
    return job;
  }

  private forget(key: string): void {
    this.dropMemory(key);
    this.touched.delete(key);
    const e = this.index.get(key);
    if (!e) return;
    this.total -= e.size;
    this.index.delete(key);
  }

  private async scan(): Promise<void> {
    const now = this.clock.now();
    for (const name of await readdir(this.dir)) {
      const m = ENTRY_NAME.exec(name);
      const path = join(this.dir, name);
      if (m) {
        const st = await stat(path).catch(() => undefined);
        if (!st?.isFile()) continue;
        this.index.set(m[1]!, { size: st.size, lastUsed: st.mtimeMs });
        this.total += st.size;
      } else if (name.startsWith(TEMP_PREFIX)) {
        // Left by a crash mid-write (or being written by another process right now: keep young ones).
        const st = await stat(path).catch(() => undefined);
        if (st && now - st.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
      }
    }
  }

  private async evict(justWritten: string | undefined): Promise<void> {
    if (this.total <= this.maxBytes) return;
    const now = this.clock.now();
    const candidates = [...this.index.entries()]
      .filter(([k, e]) => k !== justWritten && now - e.lastUsed >= this.graceMs)
      .sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [key] of candidates) {
      if (this.total <= this.maxBytes) break;
      this.forget(key);
      await unlink(this.pathOf(key)).catch(() => undefined);
      this.logger.debug('audio.cache_evicted', { key: key.slice(0, 12) });
    }
    if (this.total > this.maxBytes) {
      this.logger.warn('audio.cache_over_cap', { bytes: this.total, cap: this.maxBytes });
    }
  }
}
