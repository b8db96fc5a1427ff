/**
 * Dialog state (RFC 3261 §12) for the calls we place, and the rules for requests inside it:
 * route set from Record-Route (reversed on the UAC side), loose routing (;lr), remote target
 * from the Contact of the 2xx.
 */
import { formatNameAddr, parseNameAddr, type NameAddr } from '../syntax/name-addr.js';
import { contactsOf, cseqOf, toOf, tagOf, type SipRequest, type SipResponse } from '../syntax/message.js';

export interface Dialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From of our INVITE (with our tag). */
  localParty: string;
  /** To of the 2xx (with their tag). */
  remoteParty: string;
  remoteTarget: string;
  /** Route set, in the order requests must visit it. */
  routeSet: string[];
  localSeq: number;
}

/** §12.1.2: the UAC's view of a dialog created by a 2xx to its INVITE. */
export function dialogFromSuccess(invite: SipRequest, res: SipResponse): Dialog {
  const contact = contactsOf(res)[0];
  if (!contact) throw new Error('2xx without Contact');
  const remoteTag = tagOf(toOf(res));
  if (!remoteTag) throw new Error('2xx without To tag');
  const localTag = parseNameAddr(invite.headers.get('From')!).params.get('tag');
  return {
    callId: invite.headers.get('Call-ID')!,
    localTag: localTag ?? '',
    remoteTag,
    localParty: invite.headers.get('From')!,
    remoteParty: res.headers.get('To')!,
    remoteTarget: contact.uri,
    routeSet: res.headers.list('Record-Route').reverse(),
    localSeq: cseqOf(invite).seq,
  };
}

/**
 * Request-URI, Route header values, and the URI to send to (§12.2.1.1 with §16.12 loose and
 * strict routing).
 */
export function dialogRouting(d: Dialog): { requestUri: string; routes: string[]; nextHop: string } {
  if (d.routeSet.length === 0) return { requestUri: d.remoteTarget, routes: [], nextHop: d.remoteTarget };
  const first: NameAddr = parseNameAddr(d.routeSet[0]!);
  if (first.params.has('lr') || /;lr(?:[;=>]|$)/i.test(first.uri)) {
    return { requestUri: d.remoteTarget, routes: d.routeSet, nextHop: first.uri };
  }
  // Strict router: it goes in the Request-URI and the remote target goes last in Route.
  const routes = [...d.routeSet.slice(1), formatNameAddr({ uri: d.remoteTarget, params: new Map() })];
  return { requestUri: first.uri.replace(/;lr\b/i, ''), routes, nextHop: first.uri };
}
