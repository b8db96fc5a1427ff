import type { Command } from 'commander';
import { withStores, printJson, table, type GlobalOpts } from './context.js';
import { CHANNEL_NAMES } from '../channels/channel.js';
import { validateChannel, validateChannelOrder } from '../store/user-fields.js';

export function registerChannels(program: Command, g: () => GlobalOpts): void {
  const ch = program.command('channels').description('which channels are used, and in which order');
  ch.command('list').description('enabled state and order').option('--json', 'machine-readable output').action(async (f: { json?: boolean }) => {
    const { rows, order } = await withStores(g(), async ({ effective, stores }) => {
      const cfg = await effective();
      const snap = await stores.daemonStatus.read();
      const live = snap?.status.channels ?? {};
      return {
        order: cfg.channels.order,
        rows: CHANNEL_NAMES.map((n) => ({
          channel: n,
          enabled: cfg.channels[n].enabled,
          position: cfg.channels.order.indexOf(n) + 1 || null,
          health: live[n]?.detail ?? null,
        })),
      };
    });
    if (f.json) return printJson({ order, channels: rows });
    console.log(`order: ${order.join(' → ')}`);
    console.log(table(rows.map((r) => [r.channel, r.enabled ? 'enabled' : 'disabled', r.position ?? '-', r.health ?? '']), ['CHANNEL', 'STATE', 'POS', 'LIVE']));
  });
  for (const verb of ['enable', 'disable'] as const) {
    ch.command(`${verb} <channel>`).description(`${verb} a channel (${CHANNEL_NAMES.join('|')})`).action(async (name: string) => {
      const c = validateChannel(name);
      await withStores(g(), ({ stores }) => stores.settings.setValue(`channels.${c}.enabled`, verb === 'enable'));
      console.log(`${c} ${verb}d`);
    });
  }
  ch.command('order <channels>').description('set the order, e.g. voip,gsm,sms,mail').action(async (list: string) => {
    const order = validateChannelOrder(list);
    await withStores(g(), ({ stores }) => stores.settings.setValue('channels.order', order));
    console.log(`order: ${order.join(' → ')}`);
  });
}
