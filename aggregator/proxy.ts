// Proxying to backends with http-proxy over each backend's keep-alive agent. Bodies and watch streams are
// piped, never parsed. The caller's own credentials are not forwarded: the backend sees the aggregator's
// front-proxy certificate and the authenticated identity in X-Remote-User/Group/Extra-*.

import type { IncomingMessage, ServerResponse } from 'node:http';
import httpProxy from 'http-proxy';
import type { UserInfo } from '../apiserver/registry/object.js';
import { serviceUnavailable } from '../apiserver/request/status.js';
import { writeStatusError } from '../apiserver/request/response.js';
import type { ProxyTarget } from './remote-discovery.js';

const USER = Symbol('authenticated user');
const BACKEND = Symbol('backend');

type ProxiedRequest = IncomingMessage & { [USER]?: UserInfo; [BACKEND]?: ProxyTarget };

const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization'];

export class BackendProxy {
  private readonly proxy = httpProxy.createProxyServer({ xfwd: false, secure: true, proxyTimeout: 0, timeout: 0 });

  constructor() {
    this.proxy.on('proxyReq', (proxyReq, req, res) => {
      // Headers and body go out as separate writes: without TCP_NODELAY, Nagle plus delayed ACKs stall
      // every request with a body by ~40 ms.
      proxyReq.setNoDelay(true);
      const user = (req as ProxiedRequest)[USER];
      for (const header of CREDENTIAL_HEADERS) proxyReq.removeHeader(header);
      for (const name of proxyReq.getHeaderNames()) {
        if (name.startsWith('x-remote-')) proxyReq.removeHeader(name);
      }
      // A client that leaves before the answer ends (a watch, usually) ends the backend request too:
      // http-proxy listens for 'aborted', which Node no longer emits once a request's body is complete,
      // so without this every proxied watch would stay open on the backend until its timeout.
      res.once('close', () => {
        if (!res.writableFinished) proxyReq.destroy();
      });
      // One request, one audit ID in every server's log; the backend trusts it from the front proxy.
      const auditID = res.getHeader('audit-id');
      if (typeof auditID === 'string') proxyReq.setHeader('Audit-Id', auditID);
      // The client's address for the backend's audit sourceIPs, as upstream's proxy appends it.
      const client = req.socket.remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
      if (client) {
        const forwarded = req.headers['x-forwarded-for'];
        proxyReq.setHeader('X-Forwarded-For', typeof forwarded === 'string' && forwarded ? `${forwarded}, ${client}` : client);
      }
      if (!user) return;
      proxyReq.setHeader('X-Remote-User', user.username);
      if (user.uid) proxyReq.setHeader('X-Remote-Uid', user.uid);
      if (user.groups.length) proxyReq.setHeader('X-Remote-Group', user.groups);
      for (const [key, values] of Object.entries(user.extra ?? {})) {
        proxyReq.setHeader(`X-Remote-Extra-${encodeURIComponent(key)}`, values);
      }
    });
    this.proxy.on('proxyRes', (proxyRes, _req, res) => {
      // A watch answers with headers and then nothing until the first event; Node holds response headers
      // until the first body write, so without this a client waits for them indefinitely (kubectl wait).
      if (proxyRes.headers['content-length'] === undefined) {
        process.nextTick(() => {
          if (!res.headersSent && !res.writableEnded) res.flushHeaders();
        });
      }
    });
    this.proxy.on('error', (error, req, res) => {
      const backend = (req as ProxiedRequest)[BACKEND];
      const response = res as ServerResponse;
      if (typeof response.writeHead !== 'function') {
        (res as unknown as { destroy(): void }).destroy();
        return;
      }
      writeStatusError(
        response,
        serviceUnavailable(`the server is currently unable to handle the request: backend ${backend?.name ?? 'unknown'} (${backend?.url ?? ''}) did not answer: ${error.message}`, 1),
      );
    });
  }

  /** Proxies the request; resolves when the response is finished or the client went away. */
  forward(req: IncomingMessage, res: ServerResponse, backend: ProxyTarget, user: UserInfo): Promise<void> {
    // In-process delegate: the same handler code, no HTTP hop, the identity passed as a value.
    if (backend.inProcess) return backend.inProcess.serveAuthenticated(req, res, user);
    const proxied = req as ProxiedRequest;
    proxied[USER] = user;
    proxied[BACKEND] = backend;
    return new Promise((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
      this.proxy.web(req, res, { target: backend.target, agent: backend.agent });
    });
  }
}
