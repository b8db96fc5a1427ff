/**
 * Header field names (RFC 3261 §7.3.1, §20): case-insensitive, some with a compact form.
 * Every name is reduced to one canonical spelling so lookups never depend on how the peer wrote it.
 */
const COMPACT: Record<string, string> = {
  i: 'Call-ID',
  m: 'Contact',
  e: 'Content-Encoding',
  l: 'Content-Length',
  c: 'Content-Type',
  f: 'From',
  s: 'Subject',
  k: 'Supported',
  t: 'To',
  v: 'Via',
  o: 'Event', // RFC 6665
  r: 'Refer-To', // RFC 3515
  b: 'Referred-By', // RFC 3892
  u: 'Allow-Events', // RFC 6665
  a: 'Accept-Contact', // RFC 3841
  j: 'Reject-Contact',
  d: 'Request-Disposition',
  x: 'Session-Expires', // RFC 4028
  y: 'Identity',
  n: 'Identity-Info',
};

const KNOWN = [
  'Accept', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Authentication-Info',
  'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding',
  'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Expires',
  'From', 'In-Reply-To', 'Max-Forwards', 'Min-Expires', 'MIME-Version', 'Organization', 'Priority',
  'Proxy-Authenticate', 'Proxy-Authorization', 'Proxy-Require', 'Record-Route', 'Reply-To',
  'Require', 'Retry-After', 'Route', 'Server', 'Subject', 'Supported', 'Timestamp', 'To',
  'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate', 'Event', 'Allow-Events',
  'Subscription-State', 'Session-Expires', 'Min-SE', 'RSeq', 'RAck', 'Reason', 'P-Asserted-Identity',
  'Refer-To', 'Referred-By', 'Path', 'Service-Route',
];
const BY_LOWER = new Map<string, string>(KNOWN.map((n) => [n.toLowerCase(), n]));

/** Canonical spelling of a header name: compact forms expanded, known names in RFC case. */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  if (lower.length === 1 && COMPACT[lower]) return COMPACT[lower]!;
  return BY_LOWER.get(lower) ?? name;
}

/** Key used for case-insensitive comparison. */
export function headerKey(name: string): string {
  return canonicalHeaderName(name).toLowerCase();
}
