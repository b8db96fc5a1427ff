/** Commands whose services come from other parts: speech (say) and the appliance checks (doctor). */
import type { Command } from 'commander';
import { loadCli, line, CliError, type GlobalOpts } from './context.js';
import { openStoresAt } from '../store/index.js';
import { createLogger } from '../util/log.js';

export function registerExtra(program: Command, g: () => GlobalOpts): void {
  program.command('say <text>').description('synthesize a prompt (8 kHz WAV) to check how calls will sound')
    .option('--lang <lang>', 'language (default: voice.lang)')
    .option('--out <file.wav>', 'where to write the WAV', 'alertline-say.wav')
    .action(async (text: string, f: { lang?: string; out: string }) => {
      const loaded = loadCli(g(), ['dataDir', 'audioCacheDir']);
      let voice = loaded.config.voice;
      try {
        const s = await openStoresAt(loaded.config.store, loaded.config.dataDir);
        try { voice = (await s.settings.effective(loaded.config)).voice; } finally { await s.close(); }
      } catch { /* no database yet: the file's voice settings */ }
      const { SpeechService } = await import('../audio/speech-service.js');
      const { say } = await import('../audio/say.js');
      let service;
      try {
        service = await SpeechService.create({ voice, cacheDir: loaded.config.audioCacheDir, logger: createLogger({ level: 'warn', write: (l) => process.stderr.write(l + '\n') }) });
      } catch (e) {
        throw new CliError((e as Error).message, 1);
      }
      try {
        if (f.lang) service.validateLanguage(f.lang);
        const r = await say(service, text, { ...(f.lang ? { lang: f.lang } : {}), out: f.out });
        line(`${r.file}: ${(r.durationMs / 1000).toFixed(2)} s at ${r.sampleRate} Hz${r.fromCache ? ' (from cache)' : ' (synthesized)'}`);
      } catch (e) {
        throw new CliError((e as Error).message, (e as Error).name === 'AudioConfigError' ? 2 : 1);
      } finally {
        await service.close();
      }
    });
}
