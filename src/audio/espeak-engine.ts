/**
 * The default TTS engine: the espeak-ng command-line program compiled to WebAssembly (npm
 * package `espeak-ng`, voices embedded, 22 050 Hz output). Nothing outside node_modules is needed.
 *
 * Keeping it warm: instantiating the module costs ~150 ms (the embedded voice data is copied into
 * the in-memory file system), a synthesis only a few tens of ms. The engine instantiates once,
 * snapshots the linear memory right after start-up, and before every run of main() restores that
 * snapshot and the stack pointer, so each call starts from a pristine process image without paying
 * for a new instance. The snapshot keeps only the 4 KB pages that are not zero (about half of the
 * 32 MB): restoring copies those back and clears any other page a run wrote to, so pages no run
 * touches are never made resident. Calls are serialized (one instance, synchronous main()). If the module
 * traps, the instance is discarded and the next call instantiates a fresh one from the compiled
 * module, which is kept.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../util/log.js';
import { silentLogger } from '../util/log.js';
import { parseWav, wavToMono16 } from './wav.js';
import { LANG_TAG, normalizeLang, TtsError, type Synthesis, type SynthesisOptions, type TtsEngine } from './tts-engine.js';

interface EmFS {
  writeFile(path: string, data: string | Uint8Array): void;
  readFile(path: string): Uint8Array;
  unlink(path: string): void;
  mkdirTree?(path: string): void;
  streams: unknown[];
  close(stream: unknown): void;
}
interface EmModule {
  HEAPU8: Uint8Array;
  HEAPU32: Uint32Array;
  FS: EmFS;
}
interface EmExports {
  __main_argc_argv(argc: number, argv: number): number;
  stackSave(): number;
  stackRestore(sp: number): void;
  stackAlloc(size: number): number;
}
/** The little of the WebAssembly JS API used here (the project's lib settings do not declare it). */
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(mod: WasmModule, imports: object): Promise<WasmInstance>;
}
interface WasmInstance {
  exports: Record<string, unknown>;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
type Factory = (opts: Record<string, unknown>) => Promise<EmModule>;

interface Instance {
  mod: EmModule;
  exports: EmExports;
  snapshot: Snapshot;
  sp: number;
  openStreams: number;
}

const PAGE = 4096;
const ZERO_PAGE = new Uint8Array(PAGE);

/** Linear memory as runs of pages: the contents of the non-zero runs, and where the zero runs are. */
interface Snapshot {
  /** [start, end) byte offsets of runs of non-zero pages, their bytes back to back in `data`. */
  full: number[];
  data: Uint8Array;
  /** [start, end) byte offsets of runs of all-zero pages. */
  zero: number[];
  length: number;
}

function isZero(heap: Uint8Array, at: number): boolean {
  return Buffer.compare(heap.subarray(at, at + PAGE), ZERO_PAGE) === 0;
}

function takeSnapshot(heap: Uint8Array): Snapshot {
  const full: number[] = [];
  const zero: number[] = [];
  let bytes = 0;
  for (let at = 0; at < heap.length; at += PAGE) {
    const z = heap.length - at >= PAGE && isZero(heap, at);
    const runs = z ? zero : full;
    const end = Math.min(heap.length, at + PAGE);
    if (runs.length && runs[runs.length - 1] === at) runs[runs.length - 1] = end;
    else runs.push(at, end);
    if (!z) bytes += end - at;
  }
  const data = new Uint8Array(bytes);
  let off = 0;
  for (let i = 0; i < full.length; i += 2) {
    data.set(heap.subarray(full[i]!, full[i + 1]!), off);
    off += full[i + 1]! - full[i]!;
  }
  return { full, data, zero, length: heap.length };
}

/** Puts linear memory back as the snapshot has it; zero pages that are still zero are not touched. */
function restoreSnapshot(heap: Uint8Array, s: Snapshot): void {
  let off = 0;
  for (let i = 0; i < s.full.length; i += 2) {
    const len = s.full[i + 1]! - s.full[i]!;
    heap.set(s.data.subarray(off, off + len), s.full[i]!);
    off += len;
  }
  for (let i = 0; i < s.zero.length; i += 2) {
    for (let at = s.zero[i]!; at < s.zero[i + 1]!; at += PAGE) if (!isZero(heap, at)) heap.fill(0, at, at + PAGE);
  }
}

const IN_FILE = '/tmp/alertline-in.txt';
const OUT_FILE = '/tmp/alertline-out.wav';

export interface EspeakEngineOptions {
  logger?: Logger;
  /** Longest text accepted (characters); longer input is a caller bug. */
  maxTextChars?: number;
}

export class EspeakWasmEngine implements TtsEngine {
  readonly id = 'espeak-ng-wasm@1';
  private instance: Instance | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly languages: Set<string>;
  private readonly voiceList: string[];
  private readonly sink: { lines: string[] };

  private constructor(
    private readonly factory: Factory,
    private readonly wasm: WasmModule,
    private readonly logger: Logger,
    private readonly maxTextChars: number,
    instance: Instance,
    sink: { lines: string[] },
  ) {
    this.instance = instance;
    this.sink = sink;
    const out = this.run(['--voices']).output;
    this.voiceList = [];
    this.languages = new Set();
    for (const line of out.slice(1)) {
      // " 2  en-gb  --/M  English_(Great_Britain)  gmw/en  (en 2)"
      const cols = line.trim().split(/\s+/);
      if (cols.length < 5 || !LANG_TAG.test(cols[1]!)) continue;
      const lang = normalizeLang(cols[1]!);
      this.voiceList.push(lang);
      this.languages.add(lang);
      for (const c of cols.slice(4)) {
        const file = /^[a-z]{2,4}\/([a-z0-9-]+)$/i.exec(c);
        if (file) this.languages.add(normalizeLang(file[1]!));
      }
      for (const m of line.matchAll(/\(([a-z]{2,3}(?:-[a-z0-9]+)*) \d+\)/gi)) this.languages.add(normalizeLang(m[1]!));
    }
    if (this.voiceList.length === 0) throw new TtsError('espeak-ng reported no voices');
  }

  static async create(opts: EspeakEngineOptions = {}): Promise<EspeakWasmEngine> {
    const logger = opts.logger ?? silentLogger;
    const require = createRequire(import.meta.url);
    const jsPath = require.resolve('espeak-ng');
    const wasmPath = join(dirname(jsPath), 'espeak-ng.wasm');
    const t0 = performance.now();
    const [{ default: factory }, bytes] = await Promise.all([
      import(pathToFileURL(jsPath).href) as Promise<{ default: Factory }>,
      readFile(wasmPath),
    ]);
    const wasm = await WA.compile(bytes);
    const sink = { lines: [] as string[] };
    const instance = await instantiate(factory, wasm, sink);
    const engine = new EspeakWasmEngine(factory, wasm, logger, opts.maxTextChars ?? 20_000, instance, sink);
    logger.info('tts.ready', { engine: engine.id, voices: engine.voiceList.length, ms: Math.round(performance.now() - t0) });
    return engine;
  }

  listLanguages(): string[] {
    return [...this.voiceList];
  }

  /** Every tag hasLanguage() accepts: the voices, their files and the languages they list. */
  languageTags(): string[] {
    return [...this.languages];
  }

  hasLanguage(lang: string): boolean {
    return LANG_TAG.test(lang) && this.languages.has(normalizeLang(lang));
  }

  synthesize(text: string, opts: SynthesisOptions): Promise<Synthesis> {
    const job = this.queue.then(() => this.synthesizeNow(text, opts));
    this.queue = job.catch(() => undefined);
    return job;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    this.instance = undefined;
  }

  private async synthesizeNow(text: string, opts: SynthesisOptions): Promise<Synthesis> {
    if (this.closed) throw new TtsError('speech engine is closed');
    if (!this.hasLanguage(opts.lang)) throw new TtsError(`espeak-ng has no voice for language ${JSON.stringify(opts.lang)}`);
    if (!Number.isInteger(opts.rate) || opts.rate < 80 || opts.rate > 450) throw new TtsError(`bad speech rate ${opts.rate}`);
    if (text.length > this.maxTextChars) throw new TtsError(`text too long for speech (${text.length} characters)`);
    if (!this.instance) {
      this.instance = await instantiate(this.factory, this.wasm, this.sink);
    }
    const inst = this.instance;
    inst.mod.FS.writeFile(IN_FILE, text);
    let result: { code: number; output: string[] };
    try {
      result = this.run(['-b', '1', '-v', normalizeLang(opts.lang), '-s', String(opts.rate), '-w', OUT_FILE, '-f', IN_FILE]);
    } catch (e) {
      this.instance = undefined; // trapped: never reuse a module in an unknown state
      this.logger.warn('tts.trap', { error: e });
      throw new TtsError(`espeak-ng failed: ${(e as Error).message}`);
    }
    let wav: Uint8Array;
    try {
      wav = inst.mod.FS.readFile(OUT_FILE);
      inst.mod.FS.unlink(OUT_FILE);
    } catch {
      throw new TtsError(`espeak-ng produced no audio (exit ${result.code}${result.output.length ? ': ' + result.output.join(' ').slice(0, 200) : ''})`);
    } finally {
      try {
        inst.mod.FS.unlink(IN_FILE);
      } catch {
        /* already gone */
      }
    }
    if (result.code !== 0) throw new TtsError(`espeak-ng exited with ${result.code}: ${result.output.join(' ').slice(0, 200)}`);
    const parsed = parseWav(Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength));
    return { samples: wavToMono16(parsed), sampleRate: parsed.sampleRate };
  }

  /** Runs main() from the pristine snapshot; returns the exit code and what it printed. */
  private run(args: string[]): { code: number; output: string[] } {
    const inst = this.instance;
    if (!inst) throw new TtsError('no engine instance');
    const { mod, exports: ex } = inst;
    restoreSnapshot(mod.HEAPU8, inst.snapshot);
    ex.stackRestore(inst.sp);
    this.sink.lines = [];
    const enc = new TextEncoder();
    const ptrs = ['espeak-ng', ...args].map((a) => {
      const b = enc.encode(a);
      const p = ex.stackAlloc(b.length + 1);
      mod.HEAPU8.set(b, p);
      mod.HEAPU8[p + b.length] = 0;
      return p;
    });
    const argv = ex.stackAlloc(4 * (ptrs.length + 1));
    ptrs.forEach((p, i) => (mod.HEAPU32[(argv >>> 2) + i] = p));
    mod.HEAPU32[(argv >>> 2) + ptrs.length] = 0;
    let code: number;
    try {
      code = ex.__main_argc_argv(ptrs.length, argv);
    } catch (e) {
      if (e && typeof e === 'object' && (e as { name?: string }).name === 'ExitStatus') {
        code = (e as { status: number }).status;
      } else {
        throw e;
      }
    } finally {
      ex.stackRestore(inst.sp);
      // Files main() left open (it may exit() mid-way) would otherwise accumulate.
      const streams = mod.FS.streams;
      for (let fd = inst.openStreams; fd < streams.length; fd++) {
        if (streams[fd]) {
          try {
            mod.FS.close(streams[fd]);
          } catch {
            /* ignore */
          }
        }
      }
    }
    return { code, output: this.sink.lines };
  }
}

async function instantiate(factory: Factory, wasm: WasmModule, sink: { lines: string[] }): Promise<Instance> {
  const onLine = (line: string) => {
    if (sink.lines.length < 1000) sink.lines.push(line);
  };
  let exports: EmExports | undefined;
  let failed: (e: unknown) => void = () => undefined;
  const failure = new Promise<never>((_, reject) => (failed = reject));
  const ready = factory({
    noInitialRun: true,
    thisProgram: 'espeak-ng',
    arguments: [],
    print: onLine,
    printErr: (line: string) => {
      // Emscripten's own notice when main() calls exit() while the runtime is kept alive.
      if (!line.startsWith('program exited')) onLine(line);
    },
    // Never touch process.exitCode or throw at the process level on exit().
    quit: (_status: number, toThrow: unknown) => {
      throw toThrow;
    },
    onAbort: (what: unknown) => failed(new TtsError(`espeak-ng aborted: ${String(what)}`)),
    instantiateWasm(imports: object, done: (inst: WasmInstance, mod: WasmModule) => void) {
      WA.instantiate(wasm, imports).then(
        (inst) => {
          exports = inst.exports as unknown as EmExports;
          done(inst, wasm);
        },
        (e: unknown) => failed(new TtsError(`espeak-ng did not instantiate: ${(e as Error).message}`)),
      );
      return {};
    },
  });
  const mod = await Promise.race([ready, failure]);
  if (!exports) throw new TtsError('espeak-ng module did not instantiate');
  return { mod, exports, snapshot: takeSnapshot(mod.HEAPU8), sp: exports.stackSave(), openStreams: mod.FS.streams.length };
}
