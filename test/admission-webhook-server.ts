// An admission webhook server for tests: plain Node HTTPS with a certificate from the project's PKI helpers;
// each path answers with its own handler (allow, deny, patch, hang, …) and every review is recorded.

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../launcher/pki.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AdmissionRequest = Record<string, any>;
export type Answer = { uid?: string; allowed: boolean; status?: Record<string, unknown>; patch?: unknown[]; warnings?: string[]; auditAnnotations?: Record<string, string> };
export type Handler = (request: AdmissionRequest) => Answer | Promise<Answer>;

export interface AdmissionWebhookServer {
  port: number;
  /** base64 PEM of the CA, as a webhook's caBundle. */
  caBundle: string;
  url(path: string): string;
  handlers: Map<string, Handler>;
  /** Reviews received, by path. */
  reviews: Map<string, AdmissionRequest[]>;
  close(): Promise<void>;
}

export async function startAdmissionWebhookServer(dnsNames: string[] = ['localhost']): Promise<AdmissionWebhookServer> {
  const ca = await createCertificateAuthority('admission-webhook-ca');
  const serving = await issueCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: 'admission-webhook', usage: 'server', dnsNames, ipAddresses: ['127.0.0.1'] });
  const handlers = new Map<string, Handler>();
  const reviews = new Map<string, AdmissionRequest[]>();
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const path = new URL(req.url ?? '/', 'https://localhost').pathname;
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: AdmissionRequest };
      if (!reviews.has(path)) reviews.set(path, []);
      reviews.get(path)!.push(review.request);
      const handler = handlers.get(path);
      if (!handler) {
        res.writeHead(404).end();
        return;
      }
      const answer = await handler(review.request);
      if (res.destroyed) return;
      const response: Record<string, unknown> = { uid: answer.uid ?? review.request.uid, allowed: answer.allowed, status: answer.status, warnings: answer.warnings, auditAnnotations: answer.auditAnnotations };
      if (answer.patch) {
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify(answer.patch)).toString('base64');
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    caBundle: Buffer.from(ca.certPem).toString('base64'),
    url: (path) => `https://127.0.0.1:${port}${path}`,
    handlers,
    reviews,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
