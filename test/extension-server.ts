// A user's own extension API server, written the way a user could write one in plain Node https (not on
// our framework): it trusts the front proxy named in kube-system/extension-apiserver-authentication, serves
// legacy discovery only (so the aggregator's fallback is exercised) and one read-only resource, and
// records what each request carried.

import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

export interface SeenRequest {
  path: string;
  user: string | undefined;
  groups: string[];
  authorization: string | undefined;
  peerCommonName: string;
  peerAuthorized: boolean;
}

export interface ExtensionServerOptions {
  cert: string;
  key: string;
  /** The requestheader CA it trusts for X-Remote-* (from the extension-apiserver-authentication ConfigMap). */
  requestHeaderCa: string;
  port?: number;
}

const GROUP = 'wardle.example.com';
const VERSION = 'v1alpha1';

export class ExtensionServer {
  readonly seen: SeenRequest[] = [];
  private server: https.Server | undefined;
  port = 0;

  constructor(private readonly options: ExtensionServerOptions) {}

  async start(): Promise<number> {
    this.server = https.createServer({ cert: this.options.cert, key: this.options.key, ca: this.options.requestHeaderCa, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const seen: SeenRequest = {
        path: req.url ?? '',
        user: header(req, 'x-remote-user'),
        groups: (req.headersDistinct?.['x-remote-group'] ?? []).flatMap((value) => value.split(',').map((part) => part.trim())),
        authorization: header(req, 'authorization'),
        peerCommonName: String(peer?.subject?.CN ?? ''),
        peerAuthorized: socket.authorized,
      };
      this.seen.push(seen);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (!seen.peerAuthorized || !seen.user) {
        json(401, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Unauthorized', message: 'not from the aggregator', code: 401 });
        return;
      }
      const path = (req.url ?? '').split('?')[0];
      if (path === '/apis') {
        json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: GROUP, versions: [{ groupVersion: `${GROUP}/${VERSION}`, version: VERSION }], preferredVersion: { groupVersion: `${GROUP}/${VERSION}`, version: VERSION } }] });
      } else if (path === `/apis/${GROUP}/${VERSION}`) {
        json(200, {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: `${GROUP}/${VERSION}`,
          resources: [
            { name: 'flunders', singularName: 'flunder', namespaced: true, kind: 'Flunder', verbs: ['get', 'list'], shortNames: ['fl'] },
            // Deletable: while this server is down, namespace deletion must wait for it.
            { name: 'fischers', singularName: 'fischer', namespaced: true, kind: 'Fischer', verbs: ['delete', 'get', 'list'] },
          ],
        });
      } else if (/^\/apis\/wardle\.example\.com\/v1alpha1\/(namespaces\/[^/]+\/)?flunders$/.test(path)) {
        json(200, {
          kind: 'FlunderList',
          apiVersion: `${GROUP}/${VERSION}`,
          metadata: { resourceVersion: '1' },
          items: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'Flunder', metadata: { name: `seen-by-${seen.user}`, namespace: 'default', creationTimestamp: '2026-11-22T00:00:00Z' } }],
        });
      } else if (/^\/apis\/wardle\.example\.com\/v1alpha1\/(namespaces\/[^/]+\/)?fischers$/.test(path)) {
        json(200, { kind: 'FischerList', apiVersion: `${GROUP}/${VERSION}`, metadata: { resourceVersion: '1' }, items: [] });
      } else {
        json(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', message: 'the server could not find the requested resource', code: 404 });
      }
    });
    // exec-style upgrades: switch protocols, then echo whatever arrives.
    this.server.on('upgrade', (req: IncomingMessage, socket: import('node:stream').Duplex) => {
      const tls = req.socket as TLSSocket;
      this.seen.push({
        path: req.url ?? '',
        user: header(req, 'x-remote-user'),
        groups: (req.headersDistinct?.['x-remote-group'] ?? []).flatMap((value) => value.split(',').map((part) => part.trim())),
        authorization: header(req, 'authorization'),
        peerCommonName: String(tls.getPeerCertificate()?.subject?.CN ?? ''),
        peerAuthorized: tls.authorized,
      });
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${header(req, 'upgrade') ?? 'echo'}\r\nConnection: Upgrade\r\n\r\n`);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port || this.options.port || 0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
