// Loopback port selection and readiness polling for the launcher (and the end-to-end tests).

import net from 'node:net';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { PkiPaths } from './pki.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function readyz(url: string, pki: PkiPaths): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(`${url}/readyz?verbose`, {
      ca: readFileSync(pki.caCert),
      cert: readFileSync(pki.adminCert),
      key: readFileSync(pki.adminKey),
      timeout: 2000,
    }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end();
  });
}

/** Polls /readyz until it answers 200; throws with the last verbose report after the deadline. */
export async function waitForReady(url: string, pki: PkiPaths, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const result = await readyz(url, pki);
      if (result.status === 200) return;
      last = result.body.trim();
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url}/readyz did not become ready: ${last}`);
}
