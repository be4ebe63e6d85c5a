// Content negotiation. Clients list media types left to right; we honour the first one we can produce.
// kubectl always ends its Accept with plain application/json, so JSON is the universal fallback.
// Protobuf is answered in JSON (client-go accepts it because it lists JSON too).

import { notAcceptable } from './status.js';

export interface MediaType {
  type: string; // e.g. "application/json"
  params: Record<string, string>;
}

export function parseMediaTypes(header: string | undefined): MediaType[] {
  if (!header) return [];
  const result: MediaType[] = [];
  for (const part of header.split(',')) {
    const [typePart, ...paramParts] = part.split(';');
    const type = typePart.trim().toLowerCase();
    if (!type) continue;
    const params: Record<string, string> = {};
    for (const param of paramParts) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      params[param.slice(0, eq).trim().toLowerCase()] = param.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    if (params.q === '0') continue;
    result.push({ type, params });
  }
  return result;
}

export type ObjectFormat = 'json' | 'yaml';

export interface ObjectNegotiation {
  format: ObjectFormat;
  /** The client asked for a meta.k8s.io Table (get/list/watch). */
  table: boolean;
  /** Requested as=PartialObjectMetadata(List). */
  partialMetadata: boolean;
  /** With partialMetadata: which of the two was asked for (the other one is a 406 upstream). */
  partialKind?: 'PartialObjectMetadata' | 'PartialObjectMetadataList';
  /** meta.k8s.io version of a Table or partial metadata answer (upstream answers in the version asked for). */
  transformVersion?: 'v1' | 'v1beta1';
}

const JSON_TYPES = new Set(['application/json', '*/*', 'application/*', 'application/vnd.kubernetes.protobuf']);
const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml']);

/** Negotiates the response for a resource request. Throws 406 when nothing acceptable is listed. */
export function negotiateObject(accept: string | undefined, allowTable: boolean): ObjectNegotiation {
  const types = parseMediaTypes(accept);
  if (types.length === 0) return { format: 'json', table: false, partialMetadata: false };
  for (const media of types) {
    const as = media.params.as;
    if (as !== undefined) {
      const group = media.params.g;
      const version = media.params.v;
      if (as === 'Table' && allowTable && group === 'meta.k8s.io' && (version === 'v1' || version === 'v1beta1')) {
        if (media.type === 'application/json' || media.type === '*/*') return { format: 'json', table: true, partialMetadata: false, transformVersion: version };
        if (YAML_TYPES.has(media.type)) return { format: 'yaml', table: true, partialMetadata: false, transformVersion: version };
      }
      if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && group === 'meta.k8s.io' && (version === 'v1' || version === 'v1beta1')) {
        if (media.type === 'application/json') return { format: 'json', table: false, partialMetadata: true, partialKind: as, transformVersion: version };
      }
      continue; // a transform we do not offer here: try the next entry
    }
    if (JSON_TYPES.has(media.type)) return { format: 'json', table: false, partialMetadata: false };
    if (YAML_TYPES.has(media.type)) return { format: 'yaml', table: false, partialMetadata: false };
  }
  throw notAcceptable(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
}

/**
 * The format of a response that is not the resource itself (an error Status, a discovery document), as
 * upstream's WriteObjectNegotiated/ErrorNegotiated pick it: YAML when asked for first, else JSON (also when
 * nothing listed is acceptable: an error must still be written).
 */
export function negotiatedPlainFormat(accept: string | undefined): ObjectFormat {
  try {
    return negotiateObject(accept, false).format;
  } catch {
    return 'json';
  }
}

export type DiscoveryFormat = 'legacy' | 'v2' | 'v2beta1';

export const AGGREGATED_DISCOVERY_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_DISCOVERY_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** For /api and /apis: aggregated discovery when asked for first, else the legacy documents. */
export function negotiateDiscovery(accept: string | undefined): DiscoveryFormat {
  for (const media of parseMediaTypes(accept)) {
    if (media.params.as === 'APIGroupDiscoveryList' && media.params.g === 'apidiscovery.k8s.io') {
      if (media.params.v === 'v2') return 'v2';
      if (media.params.v === 'v2beta1') return 'v2beta1';
      continue;
    }
    if (media.params.as !== undefined) continue;
    if (JSON_TYPES.has(media.type) || YAML_TYPES.has(media.type)) return 'legacy';
  }
  return 'legacy';
}

const GO_PARSE_BOOL_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

/**
 * Upstream's isPrettyPrint: `?pretty=` decides when given (strconv.ParseBool, so "1" and "True" count and
 * anything unparsable is false); otherwise curl, Wget and browsers get indented JSON.
 */
export function prettyPrint(query: URLSearchParams, userAgent: string | undefined): boolean {
  const pretty = query.get('pretty');
  if (pretty) return GO_PARSE_BOOL_TRUE.has(pretty);
  return userAgent !== undefined && (userAgent.startsWith('curl') || userAgent.startsWith('Wget') || userAgent.startsWith('Mozilla/5.0'));
}
