// `--encryption-provider-config`: upstream's apiserver.config.k8s.io/v1 EncryptionConfiguration (YAML or
// JSON). Each rule names resources (`secrets`, `deployments.apps`, `*.example.com`, `*.` for the core
// group, `*.*` for everything) and providers in order. A broken file stops the server at start with a
// message naming the field, as upstream's validation does; secrets are never echoed ("REDACTED").

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { ValueTransformer } from './providers.js';
import { aesCbcTransformer, aesGcmTransformer, identityTransformer, PrefixTransformers, secretboxTransformer } from './providers.js';

export class EncryptionConfigError extends Error {}

export interface EncryptionRule {
  /** Resource patterns as written: `secrets`, `deployments.apps`, `*.example.com`, `*.`, `*.*`. */
  resources: string[];
  transformers: PrefixTransformers;
}

const KEY_LENGTHS: Record<string, number[]> = { aesgcm: [16, 24, 32], aescbc: [32], secretbox: [32] };
const PROVIDER_NAMES = ['aesgcm', 'aescbc', 'secretbox', 'identity', 'kms'];

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export function loadEncryptionConfig(file: string): EncryptionRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new EncryptionConfigError(`error reading encryption provider configuration file "${file}": ${(error as Error).message}`);
  }
  try {
    return parseEncryptionConfig(text);
  } catch (error) {
    throw new EncryptionConfigError(`error while parsing file "${file}": ${(error as Error).message}`);
  }
}

export function parseEncryptionConfig(text: string): EncryptionRule[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new EncryptionConfigError(`could not decode the configuration: ${(error as Error).message}`);
  }
  if (!isObject(document)) throw new EncryptionConfigError('the configuration is not an object');
  if (document.kind !== 'EncryptionConfiguration') throw new EncryptionConfigError(`kind: Invalid value: "${String(document.kind)}": must be EncryptionConfiguration`);
  if (document.apiVersion !== 'apiserver.config.k8s.io/v1') throw new EncryptionConfigError(`apiVersion: Invalid value: "${String(document.apiVersion)}": must be apiserver.config.k8s.io/v1`);
  const resources = document.resources;
  if (!Array.isArray(resources) || resources.length === 0) throw new EncryptionConfigError('resources: Required value: EncryptionConfiguration.Resources must contain at least one resource');
  const errors: string[] = [];
  const rules = resources.map((rule, index) => parseRule(rule, `resources[${index}]`, errors));
  checkMasking(rules, errors);
  if (errors.length) throw new EncryptionConfigError(errors.join(', '));
  return rules;
}

function parseRule(rule: unknown, path: string, errors: string[]): EncryptionRule {
  const resources: string[] = [];
  const transformers: ValueTransformer[] = [];
  if (!isObject(rule)) {
    errors.push(`${path}: Invalid value: must be an object`);
    return { resources, transformers: new PrefixTransformers([identityTransformer()]) };
  }
  if (!Array.isArray(rule.resources) || rule.resources.length === 0) errors.push(`${path}.resources: Required value: at least one resource is required`);
  for (const [index, resource] of (Array.isArray(rule.resources) ? rule.resources : []).entries()) {
    if (typeof resource !== 'string' || resource === '' || resource !== resource.toLowerCase()) errors.push(`${path}.resources[${index}]: Invalid value: ${JSON.stringify(resource)}: resource name must be lowercase`);
    else if (resource.startsWith('*') && !resource.startsWith('*.')) errors.push(`${path}.resources[${index}]: Invalid value: "${resource}": use '*.<group>' to encrypt all the resources from a group or '*.*' to encrypt all resources`);
    else resources.push(resource);
  }
  if (!Array.isArray(rule.providers) || rule.providers.length === 0) errors.push(`${path}.providers: Required value: at least one provider is required`);
  for (const [index, provider] of (Array.isArray(rule.providers) ? rule.providers : []).entries()) {
    const providerPath = `${path}.providers[${index}]`;
    const named = isObject(provider) ? Object.keys(provider).filter((name) => PROVIDER_NAMES.includes(name)) : [];
    if (named.length !== 1) {
      errors.push(`${providerPath}: Invalid value: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity`);
      continue;
    }
    const kind = named[0];
    if (kind === 'identity') {
      transformers.push(identityTransformer());
      continue;
    }
    if (kind === 'kms') {
      errors.push(`${providerPath}.kms: Unsupported value: KMS plugins are not supported by this server`);
      continue;
    }
    const keys = (provider as Json)[kind];
    const keyList = isObject(keys) && Array.isArray(keys.keys) ? keys.keys : [];
    if (keyList.length === 0) errors.push(`${providerPath}.${kind}.keys: Required value: keys list should contain at least one key`);
    const names = new Set<string>();
    for (const [keyIndex, key] of keyList.entries()) {
      const keyPath = `${providerPath}.${kind}.keys[${keyIndex}]`;
      const name = isObject(key) && typeof key.name === 'string' ? key.name : '';
      const secretText = isObject(key) && typeof key.secret === 'string' ? key.secret : '';
      if (!name) errors.push(`${keyPath}.name: Required value: key name is required`);
      else if (name.includes(':')) errors.push(`${keyPath}.name: Invalid value: "${name}": should not contain ':'`);
      else if (names.has(name)) errors.push(`${keyPath}.name: Duplicate value: "${name}"`);
      names.add(name);
      if (!secretText) {
        errors.push(`${keyPath}.secret: Required value: secret is required`);
        continue;
      }
      const secret = Buffer.from(secretText, 'base64');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(secretText) || secret.toString('base64').replace(/=+$/, '') !== secretText.replace(/=+$/, '')) {
        errors.push(`${keyPath}.secret: Invalid value: "REDACTED": secret is not a valid base64 string`);
        continue;
      }
      if (!KEY_LENGTHS[kind].includes(secret.length)) {
        errors.push(`${keyPath}.secret: Invalid value: "REDACTED": secret is not of the expected length, got ${secret.length}, expected one of [${KEY_LENGTHS[kind].join(' ')}]`);
        continue;
      }
      if (!name || name.includes(':')) continue;
      transformers.push(kind === 'aesgcm' ? aesGcmTransformer(name, secret) : kind === 'aescbc' ? aesCbcTransformer(name, secret) : secretboxTransformer(name, secret));
    }
  }
  return { resources, transformers: new PrefixTransformers(transformers.length ? transformers : [identityTransformer()]) };
}

/** Upstream refuses a rule a wildcard before it already covers (it could never apply). */
function checkMasking(rules: EncryptionRule[], errors: string[]): void {
  const seen: string[] = [];
  rules.forEach((rule, ruleIndex) =>
    rule.resources.forEach((resource, index) => {
      const [, group = ''] = splitResource(resource);
      const masking = seen.find((earlier) => earlier === '*.*' || earlier === `*.${group}` || earlier === resource);
      if (masking) errors.push(`resources[${ruleIndex}].resources[${index}]: Invalid value: "${resource}": resource "${resource}" is masked by earlier rule "${masking}"`);
      seen.push(resource);
    }),
  );
}

/** `deployments.apps` → ['deployments', 'apps']; `secrets` → ['secrets', '']. */
function splitResource(resource: string): [string, string] {
  const dot = resource.indexOf('.');
  return dot < 0 ? [resource, ''] : [resource.slice(0, dot), resource.slice(dot + 1)];
}

/** The rule that applies to a group-resource: the first one naming it exactly or by a wildcard. */
export function ruleFor(rules: EncryptionRule[], group: string, resource: string): EncryptionRule | undefined {
  const exact = group ? `${resource}.${group}` : resource;
  return rules.find((rule) => rule.resources.some((pattern) => pattern === exact || pattern === `*.${group}` || pattern === '*.*'));
}
