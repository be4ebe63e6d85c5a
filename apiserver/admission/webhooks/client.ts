// Calling one admission webhook (upstream's webhook util client manager and callHook): POST the
// AdmissionReview to the URL or the resolved service endpoint with `?timeout=Ns`, trusting the caBundle,
// within timeoutSeconds. Failures carry Go's wording (`Post "https://…": …`), because the failure message
// is what users see in kubectl.

import https from 'node:https';
import type { ServiceResolver } from '../../../apiextensions/conversion/service-resolver.js';

export interface ClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  caBundle?: string;
}

/** The call failed (network, TLS, timeout, non-2xx, undecodable): the failure policy decides. */
export class CallError extends Error {}

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export class WebhookClient {
  /** Keep-alive connections per webhook (a TLS handshake costs far more than a review). */
  private readonly agent: https.Agent;

  constructor(
    private readonly config: ClientConfig,
    private readonly resolver: ServiceResolver | undefined,
  ) {
    const ca = config.caBundle ? Buffer.from(config.caBundle, 'base64').toString('utf8') : undefined;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca, noDelay: true } as https.AgentOptions);
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * The URL to connect to, and the one errors show: for a service, upstream's client addresses
   * https://<service>.<namespace>.svc:<port>/<path> and dials the resolved endpoint underneath.
   */
  private async target(timeoutSeconds: number): Promise<{ url: URL; shown: string; servername?: string }> {
    const { url, service } = this.config;
    let target: URL;
    let shown: string;
    let servername: string | undefined;
    if (url) {
      target = new URL(url);
      shown = '';
    } else if (service) {
      const port = service.port ?? 443;
      if (!this.resolver) throw new CallError(`could not get REST client: unable to resolve service/${service.name} in "${service.namespace}": no service resolver`);
      let base: string;
      try {
        base = await this.resolver.resolve(service.namespace, service.name, port);
      } catch (error) {
        throw new CallError(`could not get REST client: ${(error as Error).message}`);
      }
      target = new URL(service.path ?? '', base);
      // The serving certificate names the service, as for APIServices and conversion webhooks.
      servername = `${service.name}.${service.namespace}.svc`;
      // Go keeps an explicit :443 where WHATWG URLs drop it.
      shown = `https://${servername}:${port}${service.path ?? ''}?timeout=${timeoutSeconds}s`;
    } else throw new CallError('could not get REST client: no url or service in the client configuration');
    target.searchParams.set('timeout', `${timeoutSeconds}s`);
    return { url: target, shown: shown || target.href, servername };
  }

  /** Posts the review; resolves with the decoded answer, rejects with a CallError. */
  async post(review: unknown, timeoutSeconds: number): Promise<unknown> {
    const { url, shown, servername } = await this.target(timeoutSeconds);
    const body = JSON.stringify(review);
    const described = `failed to call webhook: Post "${shown}"`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (message: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(new CallError(message));
      };
      const timer = setTimeout(() => {
        fail(`${described}: context deadline exceeded`);
        request.destroy();
      }, timeoutSeconds * 1000);
      const request = https.request(
        url,
        { method: 'POST', agent: this.agent, servername, headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) } },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) request.destroy(new Error('response too large'));
            else chunks.push(chunk);
          });
          response.on('end', () => {
            if (settled) return;
            const text = Buffer.concat(chunks).toString('utf8');
            const status = response.statusCode ?? 0;
            if (status < 200 || status > 299) return fail(`failed to call webhook: ${serverErrorMessage(status, text)}`);
            let decoded: unknown;
            try {
              decoded = JSON.parse(text);
            } catch (error) {
              return fail(`received invalid webhook response: couldn't decode the webhook response: ${(error as Error).message}`);
            }
            settled = true;
            clearTimeout(timer);
            resolve(decoded);
          });
          response.on('error', (error) => fail(`${described}: ${goNetworkError(error)}`));
        },
      );
      request.on('error', (error) => fail(`${described}: ${goNetworkError(error)}`));
      request.end(body);
    });
  }
}

/** Node's network errors in the words Go's net package uses (what upstream's message shows). */
function goNetworkError(error: NodeJS.ErrnoException): string {
  const address = (error as { address?: string; port?: number }).address;
  const port = (error as { port?: number }).port;
  const target = address ? `${address.includes(':') ? `[${address}]` : address}:${port ?? ''}` : '';
  switch (error.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${target}: connect: connection refused`;
    case 'ECONNRESET':
      return 'read: connection reset by peer';
    case 'ENOTFOUND':
      return `dial tcp: lookup ${(error as { hostname?: string }).hostname ?? ''}: no such host`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: ${error.message}`;
    default:
      return error.message;
  }
}

/** client-go's wording for a non-2xx answer: the Status message when there is one. */
function serverErrorMessage(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { kind?: string; message?: string };
    if (parsed.kind === 'Status' && parsed.message) return parsed.message;
  } catch {
    // not JSON: quoted below
  }
  if (!body) return `the server responded with the status code ${status} but did not return more information`;
  return `an error on the server (${JSON.stringify(body.length > 1024 ? `${body.slice(0, 1024)}...` : body)}) has prevented the request from succeeding`;
}
