// A conversion webhook for tests: HTTPS with a certificate from the project's PKI helpers, converting
// CronTabs between v1beta1 (spec.cronSpec) and v1 (spec.schedule); `answer` can be replaced to misbehave.

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../../launcher/pki.js';

export interface ConversionRequest {
  uid: string;
  desiredAPIVersion: string;
  objects: Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface TestWebhook {
  url: string;
  port: number;
  /** base64 PEM of the CA, as a CRD's caBundle. */
  caBundle: string;
  /** Every ConversionReview received. */
  reviews: ConversionRequest[];
  /** Replaces the answer (return a body object, or a [status, text] pair for a raw answer). */
  answer: (request: ConversionRequest) => unknown;
  close(): Promise<void>;
}

/** The well-behaved conversion: rename the field between versions and set apiVersion. */
export function convertCronTabs(request: ConversionRequest): unknown {
  const to = request.desiredAPIVersion.split('/')[1];
  const convertedObjects = request.objects.map((object) => {
    const copy = structuredClone(object);
    copy.apiVersion = request.desiredAPIVersion;
    const spec = copy.spec ?? {};
    if (to === 'v1' && 'cronSpec' in spec) {
      spec.schedule = spec.cronSpec;
      delete spec.cronSpec;
    } else if (to === 'v1beta1' && 'schedule' in spec) {
      spec.cronSpec = spec.schedule;
      delete spec.schedule;
    }
    return copy;
  });
  return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response: { uid: request.uid, result: { status: 'Success' }, convertedObjects } };
}

export async function startTestWebhook(dnsNames: string[] = ['localhost']): Promise<TestWebhook> {
  const ca = await createCertificateAuthority('conversion-webhook-ca');
  const serving = await issueCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, commonName: 'conversion-webhook', usage: 'server', dnsNames, ipAddresses: ['127.0.0.1'] });
  const webhook: Partial<TestWebhook> & { reviews: ConversionRequest[] } = { reviews: [], answer: convertCronTabs };
  const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request: ConversionRequest };
      webhook.reviews.push(review.request);
      const answer = webhook.answer!(review.request);
      if (Array.isArray(answer)) {
        res.writeHead(answer[0] as number, { 'Content-Type': 'text/plain' });
        res.end(String(answer[1]));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(webhook, {
    url: `https://127.0.0.1:${port}/convert`,
    port,
    caBundle: Buffer.from(ca.certPem).toString('base64'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as TestWebhook;
}
