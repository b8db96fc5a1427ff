/**
 * Who has the web console open right now, as whom. The HTTP server attaches a screen for every
 * open console event stream of a login that is a person (web user linked to users.email); the
 * console channel shows an alert on the screens of its recipient. Nothing here is stored: a
 * closed browser is simply gone.
 */
export interface ConsoleScreen {
  login: string;
  /** The person (users.email) the login is. */
  userEmail: string;
  /** Sends one event to this screen (Server-Sent Events). */
  push(event: string, data: unknown): void;
}

export interface ConsolePage {
  alertId: number;
  attemptId: number;
  /** problem, update (a notice: "Acknowledged by ..."), resolved, test, other. */
  kind: string;
  subject: string;
  severity: string | null;
  host: string | null;
  /** Short text as the other text channels send it. */
  text: string;
}

export class ConsolePresence {
  private readonly screens = new Set<ConsoleScreen>();

  /** Adds a screen; the returned function removes it. */
  attach(s: ConsoleScreen): () => void {
    this.screens.add(s);
    return () => this.screens.delete(s);
  }

  get size(): number {
    return this.screens.size;
  }

  /** Logins with a screen open for this person. */
  loginsFor(email: string): string[] {
    const e = email.toLowerCase();
    return [...new Set([...this.screens].filter((s) => s.userEmail.toLowerCase() === e).map((s) => s.login))];
  }

  /** Shows a page on every screen of this person; returns the logins it reached. */
  page(email: string, page: ConsolePage): string[] {
    const e = email.toLowerCase();
    const reached = new Set<string>();
    for (const s of this.screens) {
      if (s.userEmail.toLowerCase() !== e) continue;
      try {
        s.push('page', page);
        reached.add(s.login);
      } catch {
        /* a screen that cannot take it is closing */
      }
    }
    return [...reached];
  }
}
