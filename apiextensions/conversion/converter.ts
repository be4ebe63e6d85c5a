// The converter of a CRD's custom resources (upstream's CRConverterFactory): `None` rewrites apiVersion
// only (the nopConverter: every version has the same fields), `Webhook` asks the CRD's webhook.

import type { KubeObject } from '../../apiserver/registry/object.js';
import type { VersionConverter } from '../../apiserver/registry/conversion.js';
import type { CrdSpec } from '../crd-validation.js';
import type { ServiceResolver } from './service-resolver.js';
import { WebhookConverter, type WebhookConversion } from './webhook.js';

export function nopConvert(objects: KubeObject[], toVersion: string, group: string): KubeObject[] {
  return objects.map((object) => ({ ...object, apiVersion: `${group}/${toVersion}` }));
}

/** The converter for a CRD's spec; versions not in spec.versions are still converted (objects stored in them stay readable). */
export function crdConverter(spec: CrdSpec, resolver: ServiceResolver | undefined): VersionConverter {
  const storageVersion = spec.versions.find((version) => version.storage)?.name ?? spec.versions[0]?.name ?? '';
  const conversion = spec.conversion as { strategy?: string; webhook?: WebhookConversion } | undefined;
  if (conversion?.strategy === 'Webhook') {
    const webhook = new WebhookConverter(conversion.webhook ?? {}, resolver);
    return { storageVersion, convert: (objects, toVersion) => webhook.convert(objects, toVersion, spec.group) };
  }
  return { storageVersion, convert: async (objects, toVersion) => nopConvert(objects, toVersion, spec.group) };
}
