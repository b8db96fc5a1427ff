/**
 * The one owner of the modem that the gsm and sms channels share: created once by the factory
 * list and handed to both. The first channel to start opens the modem, the last to stop closes
 * it; each channel reaches the modem through `link` and reports `status()` itself.
 */
import type { Sim900Modem, ModemLink } from '../sim900-modem.js';

export class SharedModem {
  private users = 0;
  /** Serializes opening and closing so a start racing a stop cannot leave the port in between. */
  private transition: Promise<void> = Promise.resolve();

  constructor(private readonly modem: Sim900Modem) {}

  /** What the channels use: typed operations, events and status. */
  get link(): ModemLink {
    return this.modem;
  }

  /** Channels holding the modem now. */
  get holders(): number {
    return this.users;
  }

  /** A channel starts: the first one opens the modem (never throws: failures show in status()). */
  acquire(): Promise<void> {
    this.users++;
    if (this.users === 1) this.transition = this.transition.then(() => (this.users > 0 ? this.modem.start() : undefined));
    return this.transition;
  }

  /** A channel stops: the last one closes the modem. Releasing more than acquired does nothing. */
  release(): Promise<void> {
    if (this.users === 0) return this.transition;
    this.users--;
    if (this.users === 0) this.transition = this.transition.then(() => (this.users === 0 ? this.modem.stop() : undefined));
    return this.transition;
  }
}
