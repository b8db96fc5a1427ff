/** The part of @xmpp/client (xmpp.js, untyped) the xmpp channel uses. */
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';
  import type { Duplex } from 'node:stream';

  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    toString(): string;
  }

  export type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;

  export interface StreamManagement extends EventEmitter {
    enabled: boolean;
  }

  export interface Client extends EventEmitter {
    status: string;
    socket: (Duplex & { secure?: boolean }) | null;
    options: { domain: string; service: string };
    timeout: number;
    reconnect: { stop(): void };
    streamManagement?: StreamManagement;
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
    sendReceive(el: Element, timeout?: number): Promise<Element>;
    restart(): Promise<unknown>;
    isSecure(): boolean;
    _attachSocket(socket: unknown): void;
    _onData(data: Buffer): void;
  }

  export interface ClientOptions {
    service: string;
    domain: string;
    resource?: string;
    timeout?: number;
    credentials?: (authenticate: Authenticate, mechanisms: string[], fast: unknown, entity: Client) => Promise<void>;
  }

  export function client(options: ClientOptions): Client;
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string)[]): Element;
}
