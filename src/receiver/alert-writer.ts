/**
 * Group commit: alerts finished in the same event-loop turn are stored in one transaction (one
 * fsync), and each sender gets its "250"/2xx only after that commit. If a batch fails, each alert
 * is retried alone so one bad row can't refuse the others. Admission (core) decides inside the
 * transaction what becomes of each.
 */
import type { AlertStore } from '../store/alerts.js';
import type { AdmitDecide, AdmitResult } from '../store/rows.js';
import { admitInput, type NewAlert } from '../core/admission.js';

interface Pending {
  item: NewAlert;
  resolve: (r: AdmitResult) => void;
  reject: (e: Error) => void;
}

export class AlertWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly store: Pick<AlertStore, 'admitBatch'>,
    /** The admission rules in force now (settings may change at run time). */
    private readonly rules: () => Promise<AdmitDecide>,
    private readonly onCommitted: (results: AdmitResult[]) => void,
    private readonly maxBatch = 256,
    /** Routing before admission (escalation policies, silences): adds people and policies to the alert. */
    private readonly prepare?: (item: NewAlert) => Promise<NewAlert>,
  ) {}

  async submit(item: NewAlert): Promise<AdmitResult> {
    const ready = this.prepare ? await this.prepare(item) : item;
    return this.enqueue(ready);
  }

  private enqueue(item: NewAlert): Promise<AdmitResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      let results: AdmitResult[] | null = null;
      let decide: AdmitDecide;
      try {
        decide = await this.rules();
      } catch (e) {
        for (const p of batch) p.reject(e as Error);
        continue;
      }
      try {
        results = await this.store.admitBatch(batch.map((p) => admitInput(p.item)), decide);
      } catch {
        results = null;
      }
      if (results) {
        batch.forEach((p, i) => p.resolve(results![i]!));
        this.onCommitted(results);
        continue;
      }
      for (const p of batch) {
        try {
          const [r] = await this.store.admitBatch([admitInput(p.item)], decide);
          p.resolve(r!);
          this.onCommitted([r!]);
        } catch (e) {
          p.reject(e as Error);
        }
      }
    }
    this.scheduled = false;
  }
}
