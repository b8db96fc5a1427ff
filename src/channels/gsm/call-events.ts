/** A small FIFO of events with one awaiting consumer: how a call's state machine sees the world. */
export class EventQueue<E> {
  private items: E[] = [];
  private waiter: ((e: E) => void) | null = null;

  push(e: E): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w(e);
    } else this.items.push(e);
  }

  next(): Promise<E> {
    const e = this.items.shift();
    if (e !== undefined) return Promise.resolve(e);
    return new Promise((resolve) => (this.waiter = resolve));
  }
}
