/** Commands whose services come from other parts (speech, doctor); registered here to keep main.ts small. */
import type { Command } from 'commander';
import type { GlobalOpts } from './context.js';

export function registerExtra(_program: Command, _g: () => GlobalOpts): void {}
