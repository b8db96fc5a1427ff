/**
 * Group commit: alerts finished in the same event-loop turn are stored in one SQLite transaction
 * (one fsync), and each sender gets its "250" only after that commit. If a batch fails, each alert
 * is retried alone so one bad row can't refuse the others.
 */
import type { AlertStore, FilterSettings, InsertResult, NewAlert } from '../store/alerts.js';

interface Pending {
  item: NewAlert;
  resolve: (r: InsertResult) => void;
  reject: (e: Error) => void;
}

export class AlertWriter {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly store: AlertStore,
    private readonly filter: () => FilterSettings,
    private readonly onCommitted: (results: InsertResult[]) => void,
    private readonly maxBatch = 256,
  ) {}

  submit(item: NewAlert): Promise<InsertResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      let results: InsertResult[] | null = null;
      try {
        results = this.store.insertBatch(batch.map((p) => p.item), this.filter());
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
          const [r] = this.store.insertBatch([p.item], this.filter());
          p.resolve(r!);
          this.onCommitted([r!]);
        } catch (e) {
          p.reject(e as Error);
        }
      }
    }
  }
}
