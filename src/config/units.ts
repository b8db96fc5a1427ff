/** Durations are written 30s, 5m, 2h, 500ms, 1d; sizes 512KB, 1MB, 10kB, 2048 (bytes). */
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/i;
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?$/i;

export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`invalid duration ${input}`);
    return input * 1000; // bare numbers are seconds
  }
  const m = DURATION.exec(input.trim());
  if (!m) throw new Error(`invalid duration "${input}" (write e.g. 30s, 5m, 2h)`);
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  const mult = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 86_400_000;
  return Math.round(n * mult);
}

export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0) throw new Error(`invalid size ${input}`);
    return input;
  }
  const m = SIZE.exec(input.trim());
  if (!m) throw new Error(`invalid size "${input}" (write e.g. 512KB, 1MB)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit === 'b' ? 1 : unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : 1024 ** 3;
  return Math.round(n * mult);
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
