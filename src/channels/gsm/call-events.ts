/** A small FIFO of events with one awaiting consumer: how a call's state machine sees the world. */
export class EventQueue<E> {
  private items: E[] = [];
  private waiter: ((e: E) => void) | null = null;

  push = (e: E): void => {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(e);
    } else this.items.push(e);
  };

  /** From now on every event (queued ones first) goes to `fn` instead of waiting for next(). */
  drain(fn: (e: E) => void): void {
    const items = this.items.splice(0);
    this.waiter = null;
    this.push = fn;
    for (const e of items) fn(e);
  }

  next(): Promise<E> {
    const e = this.items.shift();
    if (e !== undefined) return Promise.resolve(e);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}
