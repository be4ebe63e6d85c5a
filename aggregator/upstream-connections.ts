// Keep-alive TLS connections from the aggregator's proxy to one backend (or one remote APIService's
// endpoints), with the credentials of its agent: the front-proxy client certificate, the CA or caBundle
// that verifies the backend, its server name. A connection serves one request at a time; its listeners
// are attached once, when it is opened, and hand its bytes to the exchange that holds it, so a request on
// a warm connection allocates no socket listeners, no agent bookkeeping and no parser of Node's.

import net from 'node:net';
import tls from 'node:tls';

/** The request currently using a connection. */
export interface ConnectionUser {
  onData(data: Buffer): void;
  onError(error: Error): void;
  onClose(): void;
}

/** A backend's idle connections are closed after this long (or a second before the backend's own keep-alive timeout). */
const IDLE_TIMEOUT_MS = 60_000;
const MAX_IDLE_PER_HOST = 64;
const CONNECT_TIMEOUT_MS = 30_000;

export class UpstreamConnection {
  user: ConnectionUser | undefined;
  /** Served a request before: the backend may have closed it meanwhile. */
  reused = false;
  idleUntil = 0;

  constructor(
    readonly socket: tls.TLSSocket,
    readonly key: string,
  ) {}

  /** Ends the connection without telling its user (who gave it up). */
  destroy(): void {
    this.user = undefined;
    this.socket.destroy();
  }
}

export class ConnectionPool {
  private readonly idle = new Map<string, UpstreamConnection[]>();
  private readonly sessions = new Map<string, Buffer>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  /** Parsed once: a context built per connection parses the certificate, key and CA PEMs each time (~1 ms). */
  private readonly secureContext: tls.SecureContext;

  constructor(private readonly tlsOptions: tls.ConnectionOptions) {
    const { cert, key, ca } = tlsOptions;
    this.secureContext = tls.createSecureContext({ cert, key, ca });
  }

  /**
   * A connection to host:port for `user`: the most recently used idle one, else a new one (written to at
   * once: TLS queues the request until the handshake is done). `fresh` skips the idle ones.
   */
  acquire(host: string, port: number, user: ConnectionUser, fresh = false): UpstreamConnection {
    const key = `${host}:${port}`;
    if (!fresh) {
      const idle = this.idle.get(key);
      let connection = idle?.pop();
      // One destroyed a moment ago leaves the list only with its 'close' event.
      while (connection?.socket.destroyed) connection = idle!.pop();
      if (connection) {
        connection.user = user;
        connection.reused = true;
        return connection;
      }
    }
    const connection = this.connect(host, port, key);
    connection.user = user;
    return connection;
  }

  /** Back to the pool after a complete exchange; `keepAliveTimeoutMs` is the backend's own idle limit. */
  release(connection: UpstreamConnection, keepAliveTimeoutMs?: number): void {
    connection.user = undefined;
    let idle = this.idle.get(connection.key);
    if (!idle) this.idle.set(connection.key, (idle = []));
    if (this.closed || idle.length >= MAX_IDLE_PER_HOST || connection.socket.destroyed) {
      connection.destroy();
      return;
    }
    const timeout = keepAliveTimeoutMs === undefined ? IDLE_TIMEOUT_MS : Math.min(IDLE_TIMEOUT_MS, Math.max(keepAliveTimeoutMs - 1000, 500));
    connection.idleUntil = Date.now() + timeout;
    idle.push(connection);
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), 500);
      this.sweeper.unref();
    }
  }

  /** Closes every idle connection; connections in use end with their requests. */
  destroy(): void {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const idle of this.idle.values()) for (const connection of idle.splice(0)) connection.destroy();
  }

  /** Idle connections in the pool (tests). */
  idleCount(): number {
    let count = 0;
    for (const idle of this.idle.values()) count += idle.length;
    return count;
  }

  private sweep(): void {
    const now = Date.now();
    let remaining = 0;
    for (const idle of this.idle.values()) {
      // Oldest first: the pool reuses from the end.
      while (idle.length && idle[0].idleUntil <= now) idle.shift()!.destroy();
      remaining += idle.length;
    }
    if (remaining === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  private forget(connection: UpstreamConnection): void {
    const idle = this.idle.get(connection.key);
    const index = idle ? idle.indexOf(connection) : -1;
    if (index >= 0) idle!.splice(index, 1);
  }

  private connect(host: string, port: number, key: string): UpstreamConnection {
    const address = host.startsWith('[') ? host.slice(1, -1) : host;
    const socket = tls.connect({
      secureContext: this.secureContext,
      rejectUnauthorized: this.tlsOptions.rejectUnauthorized,
      host: address,
      port,
      // SNI carries names only; an IP address is verified against the certificate's IP SANs.
      servername: this.tlsOptions.servername ?? (net.isIP(address) ? undefined : address),
      session: this.sessions.get(key),
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    const connection = new UpstreamConnection(socket, key);
    const connectTimer = setTimeout(() => socket.destroy(new Error(`timed out connecting to ${key}`)), CONNECT_TIMEOUT_MS);
    connectTimer.unref();
    let secured = false;
    socket.once('secureConnect', () => {
      secured = true;
      clearTimeout(connectTimer);
    });
    socket.on('session', (session: Buffer) => this.sessions.set(key, session));
    // Bytes on an idle connection answer no request: it cannot be trusted with another.
    socket.on('data', (data: Buffer) => (connection.user ? connection.user.onData(data) : connection.destroy()));
    socket.on('error', (error: Error) => {
      if (!secured) this.sessions.delete(key); // a resumed session the backend no longer accepts
      connection.user?.onError(error);
    });
    socket.on('close', () => {
      clearTimeout(connectTimer);
      this.forget(connection);
      const user = connection.user;
      connection.user = undefined;
      user?.onClose();
    });
    return connection;
  }
}
