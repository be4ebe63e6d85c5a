// Conversion by webhook (upstream's webhookConverter and crConverter checks): one ConversionReview
// apiextensions.k8s.io/v1 per call over HTTPS, trusting the CRD's caBundle, and the answer checked as
// upstream checks it — uid, result, object count, apiVersion and kind, and metadata: the webhook may change
// labels and annotations only; everything else of metadata is restored from the original.

import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import { validateAnnotations, validateLabels } from '../../apiserver/registry/validate-meta.js';
import { fieldErrorMessage, StatusError } from '../../apiserver/request/status.js';
import type { ServiceResolver } from './service-resolver.js';

export interface WebhookClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  caBundle?: string;
}

export interface WebhookConversion {
  clientConfig?: WebhookClientConfig;
  conversionReviewVersions?: string[];
}

/** Upstream's webhook client timeout. */
const WEBHOOK_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A conversion failure: the request fails with a 500 carrying upstream's message (reason unset, as upstream). */
function conversionError(message: string): StatusError {
  return new StatusError(500, '', message);
}

function gvkString(object: KubeObject): string {
  return `${object.apiVersion ?? ''}, Kind=${object.kind ?? ''}`;
}

export class WebhookConverter {
  /** Keep-alive connections to the webhook (a TLS handshake costs far more than a conversion); one per CRD generation. */
  private readonly agent: https.Agent;

  constructor(
    private readonly config: WebhookConversion,
    private readonly resolver: ServiceResolver | undefined,
  ) {
    const caBundle = config.clientConfig?.caBundle;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: caBundle ? Buffer.from(caBundle, 'base64').toString('utf8') : undefined });
  }

  async convert(objects: KubeObject[], toVersion: string, group: string): Promise<KubeObject[]> {
    if (objects.length === 0) return objects;
    const desiredAPIVersion = `${group}/${toVersion}`;
    const source = gvkString(objects[0]);
    const uid = randomUUID();
    // The first review version both sides speak, as upstream picks it.
    const reviewVersion = (this.config.conversionReviewVersions ?? []).find((version) => version === 'v1' || version === 'v1beta1');
    if (!reviewVersion) throw conversionError('no supported conversion review versions');
    const review = { kind: 'ConversionReview', apiVersion: `apiextensions.k8s.io/${reviewVersion}`, request: { uid, desiredAPIVersion, objects } };
    let converted: unknown[];
    try {
      const answer = await this.post(JSON.stringify(review));
      converted = convertedObjectsOf(answer, uid, reviewVersion);
    } catch (error) {
      throw conversionError(`conversion webhook for ${source} failed: ${(error as Error).message}`);
    }
    if (converted.length !== objects.length) {
      throw conversionError(`conversion webhook for ${source} returned ${converted.length} objects, expected ${objects.length}`);
    }
    // Upstream's index in these messages counts from one after the check (it increments first); we say which object it was.
    return converted.map((item, index) => {
      const original = objects[index];
      if (!isObject(item)) throw conversionError(`conversion webhook for ${source} returned invalid converted object at index ${index}: not an object`);
      const object = item as unknown as KubeObject;
      if (object.apiVersion !== desiredAPIVersion) {
        throw conversionError(`conversion webhook for ${source} returned invalid converted object at index ${index}: invalid groupVersion (expected ${desiredAPIVersion}, received ${String(object.apiVersion ?? '')})`);
      }
      if (object.kind !== original.kind) {
        throw conversionError(`conversion webhook for ${source} returned invalid converted object at index ${index}: invalid kind (expected ${original.kind}, received ${String(object.kind ?? '')})`);
      }
      const identity = sameIdentity(original, object);
      if (identity) throw conversionError(`conversion webhook for ${source} returned invalid converted object at index ${index}: ${identity}`);
      const metadataProblem = restoreObjectMeta(original, object);
      if (metadataProblem) throw conversionError(`conversion webhook for ${source} returned invalid metadata in object at index ${index}: ${metadataProblem}`);
      return object;
    });
  }

  private async target(): Promise<{ url: URL; servername?: string }> {
    const clientConfig = this.config.clientConfig ?? {};
    if (clientConfig.url) return { url: new URL(clientConfig.url) };
    const service = clientConfig.service;
    if (!service) throw new Error('no webhook client configuration');
    if (!this.resolver) throw new Error(`unable to resolve service/${service.name} in "${service.namespace}": no service resolver`);
    const base = await this.resolver.resolve(service.namespace, service.name, service.port ?? 443);
    const url = new URL(service.path ?? '', base);
    // The serving certificate names the service, as for APIServices.
    return { url, servername: `${service.name}.${service.namespace}.svc` };
  }

  private async post(body: string): Promise<unknown> {
    const { url, servername } = await this.target();
    url.searchParams.set('timeout', `${WEBHOOK_TIMEOUT_MS / 1000}s`);
    const described = `Post "${url.href}"`;
    return new Promise((resolve, reject) => {
      const request = https.request(
        url,
        { method: 'POST', agent: this.agent, servername, timeout: WEBHOOK_TIMEOUT_MS, headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) } },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) request.destroy(new Error('response too large'));
            else chunks.push(chunk);
          });
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = response.statusCode ?? 0;
            if (status < 200 || status > 299) return reject(new Error(serverErrorMessage(status, text)));
            try {
              resolve(JSON.parse(text));
            } catch (error) {
              reject(new Error(`couldn't decode the webhook response: ${(error as Error).message}`));
            }
          });
          response.on('error', (error) => reject(new Error(`${described}: ${error.message}`)));
        },
      );
      request.on('timeout', () => request.destroy(new Error('context deadline exceeded (Client.Timeout exceeded while awaiting headers)')));
      request.on('error', (error) => reject(new Error(`${described}: ${error.message}`)));
      request.end(body);
    });
  }
}

/** client-go's wording for a non-2xx answer: the Status message when there is one. */
function serverErrorMessage(status: number, body: string): string {
  try {
    const parsed = JSON.parse(body) as { kind?: string; message?: string };
    if (parsed.kind === 'Status' && parsed.message) return parsed.message;
  } catch {
    // not JSON: quote it below
  }
  if (!body) return `the server responded with the status code ${status} but did not return more information`;
  return `an error on the server (${JSON.stringify(body.length > 1024 ? `${body.slice(0, 1024)}...` : body)}) has prevented the request from succeeding`;
}

/** Upstream's getConvertedObjectsFromResponse (v1beta1 answers were never checked for kind and uid; upstream keeps it so). */
export function convertedObjectsOf(answer: unknown, uid: string, reviewVersion = 'v1'): unknown[] {
  if (!isObject(answer)) throw new Error('the webhook response is not a JSON object');
  const v1 = reviewVersion === 'v1';
  const gvk = `${String(answer.apiVersion ?? '')}, Kind=${String(answer.kind ?? '')}`;
  if (v1 && (answer.apiVersion !== 'apiextensions.k8s.io/v1' || answer.kind !== 'ConversionReview')) {
    throw new Error(`expected webhook response of apiextensions.k8s.io/v1, Kind=ConversionReview, got ${gvk}`);
  }
  const response = answer.response;
  if (!isObject(response)) throw new Error('no response provided');
  if (v1 && response.uid !== uid) throw new Error(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(response.uid ?? '')}`);
  const result = isObject(response.result) ? response.result : {};
  if (result.status !== 'Success') {
    if (typeof result.message === 'string' && result.message) throw new Error(result.message);
    throw new Error(`response.result.status was '${String(result.status ?? '')}', not 'Success'`);
  }
  return Array.isArray(response.convertedObjects) ? response.convertedObjects : [];
}

/** Upstream's validateConvertedObject: the identity of the object is not the webhook's to change. */
function sameIdentity(original: KubeObject, converted: KubeObject): string | undefined {
  const before = original.metadata ?? {};
  const after = isObject(converted.metadata) ? converted.metadata : {};
  if ((before.name ?? '') !== (after.name ?? '')) return `must have the same name: ${before.name ?? ''} != ${String(after.name ?? '')}`;
  if ((before.namespace ?? '') !== (after.namespace ?? '')) return `must have the same namespace: ${before.namespace ?? ''} != ${String(after.namespace ?? '')}`;
  if ((before.uid ?? '') !== (after.uid ?? '')) return `must have the same UID: ${before.uid ?? ''} != ${String(after.uid ?? '')}`;
  return undefined;
}

/**
 * Upstream's restoreObjectMeta: metadata is the original's, except labels and annotations, which the
 * webhook may change (and which must then be valid). Returns the problem, if any.
 */
export function restoreObjectMeta(original: KubeObject, converted: KubeObject): string | undefined {
  const returned = converted.metadata as unknown;
  if (returned === undefined) return 'missing metadata in converted object';
  if (!isObject(returned)) return `invalid metadata of type ${Array.isArray(returned) ? '[]interface {}' : typeof returned} in converted object`;
  const metadata: Record<string, unknown> = structuredClone(original.metadata ?? {}) as Record<string, unknown>;
  for (const field of ['labels', 'annotations'] as const) {
    const value = returned[field];
    if (value === undefined || value === null) {
      delete metadata[field];
      continue;
    }
    if (!isObject(value)) return `invalid metadata.${field} of type ${Array.isArray(value) ? '[]interface {}' : typeof value} in converted object`;
    const before = (metadata[field] ?? {}) as Record<string, unknown>;
    let changed = Object.keys(before).length !== Object.keys(value).length;
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') return `metadata.${field}[${key}] must be a string, but is ${typeof item} in converted object`;
      if (before[key] !== item) changed = true;
    }
    if (changed) {
      const errors = field === 'labels' ? validateLabels(value, 'metadata.labels') : validateAnnotations(value, 'metadata.annotation');
      if (errors.length > 0) {
        const messages = errors.map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
        return messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
      }
    }
    metadata[field] = value;
  }
  converted.metadata = metadata as KubeObject['metadata'];
  return undefined;
}
