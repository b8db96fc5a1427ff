import type { Command } from 'commander';
import { withStores, printJson, line, CliError, fmtTime, type GlobalOpts } from './context.js';
import { diskFree } from '../util/disk.js';
import { pidAlive, snapshotIsLive, type LiveStatus } from '../store/daemon-status.js';

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;


interface ModemView { state: string; port: string; registered: boolean; registration?: { text: string }; signal?: { rssi: number; dbm: number | null }; operator?: string; lastError?: string }
interface SipView {
  server: string;
  transport: string;
  registration: { state: string; reason?: string; expiresAt?: number };
  pool?: { servers: { server: string; state: string; active: boolean; reason?: string; since?: number }[]; counts?: { failovers: number; failbacks: number } };
}

export function modemLine(m: ModemView): string {
  const signal = m.signal ? `signal ${m.signal.rssi}${m.signal.dbm !== null ? ` (${m.signal.dbm} dBm)` : ' (unknown)'}` : 'signal unknown';
  const reg = m.registered ? `registered${m.registration ? ` (${m.registration.text})` : ''}` : 'NOT registered';
  return [`${m.state} on ${m.port}`, reg, signal, m.operator, m.lastError ? `last error: ${m.lastError}` : ''].filter(Boolean).join(', ');
}

export function sipLine(s: SipView, now = Date.now()): string {
  const r = s.registration;
  const exp = r.expiresAt ? `, expires in ${Math.max(0, Math.round((r.expiresAt - now) / 1000))} s` : '';
  const head = `${r.state} at ${s.server} (${s.transport})${r.reason && r.state !== 'registered' ? `: ${r.reason}` : ''}${exp}`;
  const servers = s.pool?.servers ?? [];
  if (servers.length < 2) return head;
  const each = servers.map((x) => {
    const since = x.since !== undefined && x.state === 'down' ? ` for ${Math.max(0, Math.round((now - x.since) / 1000))} s` : '';
    return `${x.server} ${x.active ? 'active' : x.state}${x.state === 'down' ? `${since}${x.reason ? ` (${x.reason})` : ''}` : ''}`;
  });
  const c = s.pool?.counts;
  return `${head}; servers: ${each.join(', ')}${c && (c.failovers || c.failbacks) ? `; ${c.failovers} failover(s), ${c.failbacks} failback(s)` : ''}`;
}


export function registerStatus(program: Command, g: () => GlobalOpts): void {
  program.command('status').description('live state of the running daemon').option('--json', 'machine-readable output').action(async (f: { json?: boolean }) => {
    const r = await withStores(g(), async ({ stores, loaded }) => {
      const snap = await stores.daemonStatus.read();
      const now = Date.now();
      const stale = snap && pidAlive(snap.pid) ? { pid: snap.pid, updatedAt: snap.updatedAt } : null;
      const running = snapshotIsLive(snap, now);
      const node = loaded.config.node;
      // Several appliances on one PostgreSQL: every node, from the heartbeat rows they write.
      const nodes = stores.engine === 'postgres'
        ? (await stores.nodes.list()).map((n) => ({
          name: n.name, up: !n.status.stopped && now - n.seenAt <= node.downAfter, stopped: Boolean(n.status.stopped), lastSeen: n.seenAt,
          hostname: n.status.hostname ?? null, pid: n.pid, channels: n.status.channels ?? {}, running: n.status.running ?? [],
        }))
        : null;
      const self = nodes?.find((n) => n.name === node.name);
      const midnight = new Date();
      midnight.setHours(0, 0, 0, 0);
      return {
        daemon: running ? { running: true, pid: snap!.pid, startedAt: snap!.startedAt, updatedAt: snap!.updatedAt } : { running: false },
        queue: { openDeliveries: await stores.deliveries.openCount() },
        alertsToday: await stores.alerts.countByState(midnight.getTime()),
        storage: await (async () => {
          const free = await diskFree(loaded.config.dataDir).catch(() => null);
          const min = loaded.config.store.minFreeSpace;
          return { ...(await stores.stats()), diskFree: free, minFreeSpace: min, diskLow: free !== null && min > 0 && free < min };
        })(),
        ...(running ? { live: snap!.status } : {}),
        // A live process whose snapshot stopped being written: most likely its database refuses writes.
        ...(!running && stale && stores.engine === 'sqlite' ? { stale } : {}),
        ...(nodes ? { node: node.name, nodes, thisNodeUp: Boolean(self?.up) } : {}),
      };
    });
    if (f.json) printJson(r);
    else {
      if (!r.daemon.running && r.stale) line(`daemon: pid ${r.stale.pid} is alive but its status was last written ${fmtTime(r.stale.updatedAt)}: it may be unable to write the database (see its log and /metrics alertline_database_healthy)`);
      else if (!r.daemon.running) line('daemon: NOT RUNNING (start it with: alertline run, or systemctl start alertline)');
      else {
        const live = r.live as Record<string, any>;
        line(`daemon: running, pid ${r.daemon.pid}, up ${live.uptimeSec}s on ${live.hostname}`);
        line(`receiver: ${live.receiver.listening ? `listening on ${live.receiver.address}:${live.receiver.port}, ${live.receiver.accepted} accepted since start` : 'not listening'}`);
        line(`queue: ${r.queue.openDeliveries} deliveries open, ${live.queue.running} running`);
        line(`order: ${(live.order as string[]).join(' → ')}`);
        for (const [name, c] of Object.entries(live.channels as Record<string, any>)) {
          line(`  ${name.padEnd(5)} ${c.enabled ? (c.healthy ? 'ok       ' : 'UNHEALTHY') : 'disabled '} ${c.detail ?? ''}${c.busy ? ` (${c.busy} busy)` : ''}`);
        }
        const modem = (live.channels.gsm?.status ?? live.channels.sms?.status) as ModemView | undefined;
        if (modem) line(`modem: ${modemLine(modem)}`);
        const sip = live.channels.voip?.status as SipView | undefined;
        if (sip) line(`sip: ${sipLine(sip)}`);
        const db = live.database as LiveStatus['database'];
        if (db && !db.ok) line(`database: FAILING since ${db.since ?? '?'}: ${db.error ?? ''}`);
        for (const a of (live.selfAlarms as LiveStatus['selfAlarms'])?.open ?? []) line(`self-alarm: ${a.summary} (since ${a.since})`);
        const web = live.console as LiveStatus['console'];
        if (web) line(`console: ${web.screens} screen(s) open${web.setupUrl ? `; no web user yet: create the first admin at ${web.setupUrl}` : ''}`);
      }
      const st = r.storage;
      const prune = (r.live as { storage?: LiveStatus['storage'] } | undefined)?.storage?.lastPrune;
      line(`database: ${mb(st.dbBytes)}${st.freeBytes ? ` (${mb(st.freeBytes)} free inside)` : ''}, oldest alert ${st.oldestAlertAt ? fmtTime(st.oldestAlertAt) : 'none'}${st.diskFree !== null ? `, disk free ${mb(st.diskFree)}` : ''}${st.diskLow ? ` — BELOW store.minFreeSpace (${mb(st.minFreeSpace)}): new mail is refused with 452` : ''}`);
      if (prune) line(`retention: last run ${fmtTime(prune.at)}: ${prune.alerts} alerts and ${prune.raw} raw messages pruned, ${mb(prune.pagesFreed * 4096)} given back`);
      const today = Object.entries(r.alertsToday).map(([k, v]) => `${k} ${v}`).join(', ');
      line(`alerts today: ${today || 'none'}`);
      if (r.nodes) {
        line(`nodes sharing the database (${r.nodes.length}; this is ${r.node}):`);
        for (const n of r.nodes) {
          const ago = Math.max(0, Math.round((Date.now() - n.lastSeen) / 1000));
          const state = n.up ? `up, seen ${ago}s ago` : n.stopped ? `stopped, last seen ${fmtTime(n.lastSeen)}` : `DOWN, last seen ${fmtTime(n.lastSeen)} (${ago}s ago)`;
          const chans = Object.entries(n.channels).map(([c, v]) => `${c} ${v.healthy ? 'ok' : 'UNHEALTHY'}${v.busy ? ` (${v.busy} busy)` : ''}`).join(', ');
          line(`  ${n.name.padEnd(12)} ${state}${n.hostname ? ` on ${n.hostname} pid ${n.pid}` : ''}`);
          if (n.up) {
            line(`    channels: ${chans || 'none'}`);
            line(`    running: ${n.running.length ? n.running.map((x) => `alert ${x.alertId} ${x.channel} → ${x.to}`).join('; ') : 'nothing'}`);
          }
        }
      }
    }
    if (!r.daemon.running && !r.thisNodeUp) throw new CliError('', 1);
  });
}
