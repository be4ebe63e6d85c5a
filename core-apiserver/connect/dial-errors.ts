// Backend failures in Go's words: kubectl users know `dial tcp 10.0.0.7:8080: connect: connection refused`
// from every real cluster, and scripts match on it.

import net from 'node:net';

const DIAL_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  ETIMEDOUT: 'i/o timeout',
  ECONNRESET: 'connection reset by peer',
};

const UNKNOWN_AUTHORITY = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']);

/** Why a backend could not be used, worded as Go's net/http and crypto/tls say it. */
export function backendError(error: Error & { code?: string }, location: { host: string; port: number }, connected: boolean): string {
  const address = net.isIPv6(location.host) ? `[${location.host}]:${location.port}` : `${location.host}:${location.port}`;
  const code = error.code ?? '';
  if (!connected && code === 'ENOTFOUND') return `dial tcp: lookup ${location.host}: no such host`;
  if (!connected && DIAL_REASONS[code]) return `dial tcp ${address}: ${DIAL_REASONS[code]}`;
  if (UNKNOWN_AUTHORITY.has(code)) return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  if (code === 'CERT_HAS_EXPIRED') return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `tls: failed to verify certificate: x509: certificate is not valid for ${location.host}`;
  if (DIAL_REASONS[code]) return `read tcp ${address}: ${DIAL_REASONS[code]}`;
  if (code === 'ECONNRESET' || error.message === 'socket hang up') return 'EOF';
  return error.message;
}
