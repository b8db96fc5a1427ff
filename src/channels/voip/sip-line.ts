/**
 * The voip channel's SIP line (its user agent, registration and server) shared explicitly with
 * the channels that send through it: the sipmsg channel's MESSAGEs go out through the same
 * registration and its replies arrive at the same UA. The daemon's channel factories create one
 * and hand it to both; the voip channel attaches its UA when it starts and detaches it when it
 * stops, and a MESSAGE receiver installed here survives voip restarts.
 */
import type { VoipConfig } from '../../config/schema.js';
import type { Endpoint } from './sip/transport/transport.js';
import type { Registration } from './sip/ua/registration.js';
import type { MessageHandler, SipUserAgent } from './sip/ua/user-agent.js';

export interface SipLineState {
  ua: SipUserAgent;
  /** The registrar / outbound proxy in use (the active server of the voip pool). */
  server: Endpoint;
  /** Its name as configured ("pbx2.example.com:5060"). */
  serverName: string;
  /** Every server of the pool that resolved: MESSAGEs from any of them come "through the voip server". */
  peers: readonly Endpoint[];
  config: Pick<VoipConfig, 'server' | 'domain' | 'transport' | 'register'>;
  registration?: Registration;
}

export class SipLine {
  private state: SipLineState | null = null;
  private handler: MessageHandler | undefined;
  private uninstall: (() => void) | undefined;

  /** The line while the voip channel runs, else null. */
  get current(): SipLineState | null {
    return this.state;
  }

  /** Called when the voip channel starts and again whenever its server pool moves to another server. */
  attach(state: SipLineState): void {
    this.uninstall?.();
    this.state = state;
    this.uninstall = this.handler ? state.ua.onMessageRequest(this.handler) : undefined;
  }

  detach(ua: SipUserAgent): void {
    if (this.state?.ua !== ua) return;
    this.uninstall?.();
    this.uninstall = undefined;
    this.state = null;
  }

  /** Installs the receiver of MESSAGE requests, now and on every UA attached later. */
  onMessageRequest(fn: MessageHandler): () => void {
    this.handler = fn;
    this.uninstall?.();
    this.uninstall = this.state ? this.state.ua.onMessageRequest(fn) : undefined;
    return () => {
      if (this.handler !== fn) return;
      this.handler = undefined;
      this.uninstall?.();
      this.uninstall = undefined;
    };
  }
}
