/**
 * dataDir and audioCacheDir must be real, writable directories on a file system that stores
 * files. Node's `mkdirSync(dir, { recursive: true })` loops forever at 100 % CPU under /proc (the
 * kernel answers ENOENT to every mkdir there), so directories are created here one component at a
 * time, after checking the nearest existing ancestor: a directory, writable, not on a kernel
 * pseudo file system. Every failure is quick and says which path and why.
 */
import { accessSync, constants, mkdirSync, statSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export class DirectoryError extends Error {
  constructor(
    message: string,
    /** errno-style: ENOTDIR, EACCES, EROFS, ENOTSUP (pseudo file system), ENOENT... */
    readonly code: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'DirectoryError';
  }
}

/** Kernel file systems that hold no files of ours (values from linux/magic.h). */
const PSEUDO_FS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0xde5e81e4, 'efivarfs'],
  [0x62656570, 'configfs'],
  [0x65735543, 'fusectl'],
  [0x19800202, 'mqueue'],
  [0x42494e4d, 'binfmt_misc'],
  [0xf97cff8c, 'selinuxfs'],
  [0x6e736673, 'nsfs'],
  [0x958458f6, 'hugetlbfs'],
]);

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? 'EIO';
}

function pseudoFs(path: string): string | null {
  try {
    const t = Number(statfsSync(path, { bigint: true }).type & 0xffffffffn);
    return PSEUDO_FS.get(t) ?? null;
  } catch {
    return null; // statfs unsupported here: the other checks still apply
  }
}

export interface DirectoryState {
  /** The absolute path checked. */
  path: string;
  /** Whether it exists already (else it would be created under `base`). */
  exists: boolean;
  /** The nearest existing ancestor (the path itself when it exists). */
  base: string;
}

/** Checks without creating anything. Throws DirectoryError. */
export function inspectDirectory(dir: string): DirectoryState {
  const path = resolve(dir);
  let base = path;
  for (;;) {
    try {
      const st = statSync(base);
      if (!st.isDirectory()) {
        throw new DirectoryError(base === path ? `${path} is not a directory` : `${path}: ${base} is not a directory`, 'ENOTDIR', path);
      }
      break;
    } catch (e) {
      if (e instanceof DirectoryError) throw e;
      const c = code(e);
      if (c === 'ENOENT' || c === 'ENOTDIR') {
        const up = dirname(base);
        if (up === base) throw new DirectoryError(`${path}: no existing directory above it`, 'ENOENT', path);
        base = up;
        continue;
      }
      throw new DirectoryError(`${path}: cannot examine ${base} (${c})`, c, path);
    }
  }
  const fs = pseudoFs(base);
  if (fs) {
    throw new DirectoryError(`${path} is on ${fs}, a kernel pseudo file system that cannot hold files: choose a directory on a disk (e.g. /var/lib/alertline)`, 'ENOTSUP', path);
  }
  try {
    accessSync(base, constants.W_OK | constants.X_OK);
  } catch (e) {
    const c = code(e);
    const what = c === 'EROFS' ? 'is on a read-only file system' : 'is not writable by this user';
    throw new DirectoryError(base === path ? `${path} ${what} (${c})` : `${path}: ${base} ${what} (${c}), so it cannot be created`, c, path);
  }
  return { path, exists: base === path, base };
}

/** Checks, then creates what is missing one directory at a time. Returns the absolute path. */
export function prepareDirectory(dir: string, mode = 0o750): string {
  const state = inspectDirectory(dir);
  if (state.exists) return state.path;
  const missing: string[] = [];
  for (let p = state.path; p !== state.base; p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    try {
      mkdirSync(p, { mode });
    } catch (e) {
      const c = code(e);
      if (c === 'EEXIST' && statSync(p).isDirectory()) continue;
      throw new DirectoryError(`${state.path}: cannot create ${p} (${c})`, c, state.path);
    }
  }
  return state.path;
}
