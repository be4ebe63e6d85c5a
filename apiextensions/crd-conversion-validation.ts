// Upstream's validateCustomResourceConversion and the webhook client config rules it shares with
// admission webhooks (k8s.io/apiserver/pkg/util/webhook), at the internal version's field paths:
// v1's spec.conversion.webhook.clientConfig is spec.conversion.webhookClientConfig there, and
// spec.conversion.webhook.conversionReviewVersions is spec.conversion.conversionReviewVersions.

import { X509Certificate } from 'node:crypto';
import { isObject } from '../apiserver/registry/object.js';
import type { FieldError } from '../apiserver/request/status.js';
import { isDns1035Label, isDns1123Subdomain } from '../apiserver/registry/names.js';

/** ConversionReview versions the previous server release understood (upstream's acceptedConversionReviewVersions). */
const ACCEPTED_REVIEW_VERSIONS = ['v1', 'v1beta1'];
const PATH = 'spec.conversion';

export interface ConversionOptions {
  /** False on update when the stored CRD already lacked a recognized version (ratcheting). */
  requireRecognizedConversionReviewVersion: boolean;
  /** True on create, before establishment, or when the stored caBundle was already invalid. */
  allowInvalidCABundle: boolean;
}

interface V1Conversion {
  strategy?: unknown;
  webhook?: { clientConfig?: Record<string, unknown>; conversionReviewVersions?: unknown };
}

export function validateConversion(conversion: unknown, options: ConversionOptions): FieldError[] {
  if (!isObject(conversion)) return [];
  const { strategy, webhook } = conversion as V1Conversion;
  const errors: FieldError[] = [];
  if (strategy === undefined || strategy === '') errors.push({ field: `${PATH}.strategy`, type: 'FieldValueRequired' });
  else if (strategy !== 'None' && strategy !== 'Webhook') errors.push({ field: `${PATH}.strategy`, type: 'FieldValueNotSupported', value: strategy, supported: ['None', 'Webhook'] });
  const clientConfig = isObject(webhook) && isObject(webhook.clientConfig) ? webhook.clientConfig : undefined;
  const reviewVersions = isObject(webhook) && Array.isArray(webhook.conversionReviewVersions) ? (webhook.conversionReviewVersions as unknown[]) : [];
  if (strategy !== 'Webhook') {
    if (clientConfig) errors.push({ field: `${PATH}.webhookClientConfig`, type: 'FieldValueForbidden', detail: 'should not be set when strategy is not set to Webhook' });
    if (reviewVersions.length > 0) errors.push({ field: `${PATH}.conversionReviewVersions`, type: 'FieldValueForbidden', detail: 'should not be set when strategy is not set to Webhook' });
    return errors;
  }
  if (!clientConfig) {
    errors.push({ field: `${PATH}.webhookClientConfig`, type: 'FieldValueRequired', detail: 'required when strategy is set to Webhook' });
  } else {
    errors.push(...validateClientConfig(clientConfig, `${PATH}.webhookClientConfig`, options));
  }
  errors.push(...validateReviewVersions(reviewVersions, options.requireRecognizedConversionReviewVersion, `${PATH}.conversionReviewVersions`));
  return errors;
}

/** Whether a list names a version this server understands, or is empty (upstream's hasValidConversionReviewVersionOrEmpty). */
export function hasRecognizedReviewVersionOrEmpty(conversion: unknown): boolean {
  const versions = isObject(conversion) && isObject(conversion.webhook) && Array.isArray(conversion.webhook.conversionReviewVersions) ? (conversion.webhook.conversionReviewVersions as unknown[]) : [];
  return versions.length === 0 || versions.some((version) => ACCEPTED_REVIEW_VERSIONS.includes(version as string));
}

/** The caBundle problem, if the bundle is set and unusable. */
export function caBundleProblem(conversion: unknown): string | undefined {
  const bundle = isObject(conversion) && isObject(conversion.webhook) && isObject(conversion.webhook.clientConfig) ? conversion.webhook.clientConfig.caBundle : undefined;
  if (typeof bundle !== 'string' || bundle === '') return undefined;
  return certificatePoolProblem(Buffer.from(bundle, 'base64').toString('latin1'));
}

function validateReviewVersions(versions: unknown[], requireRecognized: boolean, path: string): FieldError[] {
  if (versions.length === 0) return [{ field: path, type: 'FieldValueRequired' }];
  const errors: FieldError[] = [];
  const seen = new Set<unknown>();
  versions.forEach((version, index) => {
    if (seen.has(version)) {
      errors.push({ field: `${path}[${index}]`, type: 'FieldValueInvalid', value: version, detail: 'duplicate version' });
      return;
    }
    seen.add(version);
    for (const problem of isDns1035Label(String(version))) errors.push({ field: `${path}[${index}]`, type: 'FieldValueInvalid', value: version, detail: problem });
  });
  if (requireRecognized && !versions.some((version) => ACCEPTED_REVIEW_VERSIONS.includes(version as string))) {
    errors.push({ field: path, type: 'FieldValueInvalid', value: versions, detail: `must include at least one of ${ACCEPTED_REVIEW_VERSIONS.join(', ')}` });
  }
  return errors;
}

function validateClientConfig(config: Record<string, unknown>, path: string, options: ConversionOptions): FieldError[] {
  const errors: FieldError[] = [];
  const url = typeof config.url === 'string' ? config.url : undefined;
  const service = isObject(config.service) ? config.service : undefined;
  if ((url === undefined) === (service === undefined)) errors.push({ field: path, type: 'FieldValueRequired', detail: 'exactly one of url or service is required' });
  else if (url !== undefined) errors.push(...validateWebhookUrl(url, `${path}.url`));
  else if (service) errors.push(...validateWebhookService(service, `${path}.service`));
  const bundle = typeof config.caBundle === 'string' ? config.caBundle : '';
  if (bundle !== '' && !options.allowInvalidCABundle) {
    const problem = certificatePoolProblem(Buffer.from(bundle, 'base64').toString('latin1'));
    if (problem) errors.push({ field: `${path}.caBundle`, type: 'FieldValueInvalid', value: bundle, detail: problem });
  }
  return errors;
}

const URL_FORM = '; desired format: https://host[/path]';

/** Upstream's ValidateWebhookURL with forceHttps (url.Parse's view of the parts). */
export function validateWebhookUrl(raw: string, path: string): FieldError[] {
  const match = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(raw);
  if (!match) return [{ field: path, type: 'FieldValueRequired', detail: `url must be a valid URL: parse ${JSON.stringify(raw)}: invalid URL${URL_FORM}` }];
  const [, scheme = '', authority, , query = '', fragment = ''] = match;
  const at = authority?.lastIndexOf('@') ?? -1;
  const user = authority !== undefined && at >= 0 ? authority.slice(0, at) : undefined;
  const host = authority === undefined ? '' : authority.slice(at + 1);
  const errors: FieldError[] = [];
  if (scheme !== 'https') errors.push({ field: path, type: 'FieldValueInvalid', value: scheme, detail: `'https' is the only allowed URL scheme${URL_FORM}` });
  if (host === '') errors.push({ field: path, type: 'FieldValueInvalid', value: host, detail: `host must be provided${URL_FORM}` });
  if (user !== undefined) errors.push({ field: path, type: 'FieldValueInvalid', value: user, detail: 'user information is not permitted in the URL' });
  if (fragment !== '') errors.push({ field: path, type: 'FieldValueInvalid', value: fragment, detail: 'fragments are not permitted in the URL' });
  if (query !== '') errors.push({ field: path, type: 'FieldValueInvalid', value: query, detail: 'query parameters are not permitted in the URL' });
  return errors;
}

/** Upstream's ValidateWebhookService (the port defaults to 443 in v1). */
export function validateWebhookService(service: Record<string, unknown>, path: string): FieldError[] {
  const errors: FieldError[] = [];
  if (typeof service.name !== 'string' || service.name === '') errors.push({ field: `${path}.name`, type: 'FieldValueRequired', detail: 'service name is required' });
  if (typeof service.namespace !== 'string' || service.namespace === '') errors.push({ field: `${path}.namespace`, type: 'FieldValueRequired', detail: 'service namespace is required' });
  const port = service.port ?? 443;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    errors.push({ field: `${path}.port`, type: 'FieldValueInvalid', value: port, detail: 'port is not valid: must be between 1 and 65535, inclusive' });
  }
  const urlPath = service.path;
  if (typeof urlPath !== 'string' || urlPath === '' || urlPath === '/') return errors;
  if (urlPath === '//') return [...errors, { field: `${path}.path`, type: 'FieldValueInvalid', value: urlPath, detail: 'segment[0] may not be empty' }];
  if (!urlPath.startsWith('/')) errors.push({ field: `${path}.path`, type: 'FieldValueInvalid', value: urlPath, detail: "must start with a '/'" });
  let steps = urlPath.slice(1);
  if (steps.endsWith('/')) steps = steps.slice(0, -1);
  steps.split('/').forEach((step, index) => {
    if (step === '') {
      errors.push({ field: `${path}.path`, type: 'FieldValueInvalid', value: urlPath, detail: `segment[${index}] may not be empty` });
      return;
    }
    for (const failure of isDns1123Subdomain(step)) errors.push({ field: `${path}.path`, type: 'FieldValueInvalid', value: urlPath, detail: `segment[${index}]: ${failure}` });
  });
  return errors;
}

/** What client-go says when a CA bundle cannot make a certificate pool (createErrorParsingCAData), or undefined when it can. */
function certificatePoolProblem(pem: string): string | undefined {
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g)];
  let firstProblem: string | undefined;
  for (const [, type, body] of blocks) {
    if (type !== 'CERTIFICATE') continue;
    try {
      new X509Certificate(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
      return undefined;
    } catch (error) {
      firstProblem ??= `failed to parse certificate: ${(error as Error).message}`;
    }
  }
  const detail = blocks.length === 0 ? 'unable to parse bytes as PEM block' : (firstProblem ?? 'no valid certificate authority data seen');
  return `unable to load root certificates: ${detail}`;
}
