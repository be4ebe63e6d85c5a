// --admission-control-config-file (kube-apiserver's): an apiserver.config.k8s.io/v1 AdmissionConfiguration
// whose `plugins` give each plugin its configuration inline (`configuration`) or in a file of its own
// (`path`, relative to this file). PodSecurity takes a PodSecurityConfiguration: the levels for namespaces
// without labels (`defaults`) and who is never judged (`exemptions`). A file that cannot be read or does not
// say what it should stops the server, naming the field, as upstream refuses to start.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { FlagError } from '../../apiserver/server/flags.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { PodSecurityConfiguration } from './pod-security.js';

const ADMISSION_API_VERSIONS = ['apiserver.config.k8s.io/v1', 'apiserver.k8s.io/v1alpha1'];
const POD_SECURITY_API_VERSIONS = ['pod-security.admission.config.k8s.io/v1', 'pod-security.admission.config.k8s.io/v1beta1', 'pod-security.admission.config.k8s.io/v1alpha1'];
const LEVELS = ['privileged', 'baseline', 'restricted'];
const VERSION = /^(latest|v1\.([0-9]|[1-9][0-9]*))$/;

export interface AdmissionConfiguration {
  podSecurity?: PodSecurityConfiguration;
}

function fail(file: string, message: string): never {
  throw new FlagError(`--admission-control-config-file ${file}: ${message}`);
}

function readDocument(file: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(file, `unable to read ${what}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return fail(file, `unable to parse ${what}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (!isObject(document)) return fail(file, `${what} is not an object`);
  return document;
}

function strings(file: string, value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) fail(file, `${field}: must be a list of non-empty strings`);
  return value as string[];
}

/** Validates a PodSecurityConfiguration as upstream's ValidatePodSecurityConfiguration does (defaults and exemptions). */
export function podSecurityConfiguration(file: string, document: Record<string, unknown>): PodSecurityConfiguration {
  if (!POD_SECURITY_API_VERSIONS.includes(String(document.apiVersion)) || document.kind !== 'PodSecurityConfiguration') {
    fail(file, `PodSecurity: expected a PodSecurityConfiguration (${POD_SECURITY_API_VERSIONS[0]}), got ${String(document.apiVersion)}, Kind=${String(document.kind)}`);
  }
  const defaults: PodSecurityConfiguration['defaults'] = {};
  const given = isObject(document.defaults) ? document.defaults : {};
  for (const mode of ['enforce', 'audit', 'warn'] as const) {
    const level = given[mode];
    if (level !== undefined) {
      if (typeof level !== 'string' || !LEVELS.includes(level)) fail(file, `defaults.${mode}: Unsupported value: ${JSON.stringify(level)}: supported values: "${LEVELS.join('", "')}"`);
      defaults[mode] = level;
    }
    const version = given[`${mode}-version`];
    if (version !== undefined) {
      if (typeof version !== 'string' || !VERSION.test(version)) fail(file, `defaults.${mode}-version: Invalid value: ${JSON.stringify(version)}: must be "latest" or "v1.x"`);
      defaults[`${mode}-version`] = version;
    }
  }
  const exemptions = isObject(document.exemptions) ? document.exemptions : {};
  return {
    defaults,
    exemptions: {
      usernames: strings(file, exemptions.usernames, 'exemptions.usernames'),
      namespaces: strings(file, exemptions.namespaces, 'exemptions.namespaces'),
      runtimeClasses: strings(file, exemptions.runtimeClasses, 'exemptions.runtimeClasses'),
    },
  };
}

export function readAdmissionConfiguration(file: string): AdmissionConfiguration {
  const document = readDocument(file, 'the admission configuration');
  if (!ADMISSION_API_VERSIONS.includes(String(document.apiVersion)) || document.kind !== 'AdmissionConfiguration') {
    fail(file, `expected an AdmissionConfiguration (${ADMISSION_API_VERSIONS[0]}), got ${String(document.apiVersion)}, Kind=${String(document.kind)}`);
  }
  const result: AdmissionConfiguration = {};
  for (const [index, plugin] of (Array.isArray(document.plugins) ? document.plugins : []).entries()) {
    if (!isObject(plugin) || typeof plugin.name !== 'string') fail(file, `plugins[${index}].name: Required value`);
    if (plugin.name !== 'PodSecurity') continue; // the other built-in plugins take no configuration here
    const configuration = isObject(plugin.configuration)
      ? plugin.configuration
      : typeof plugin.path === 'string'
        ? readDocument(resolve(dirname(file), plugin.path), `plugins[${index}].path`)
        : fail(file, `plugins[${index}]: configuration or path is required`);
    result.podSecurity = podSecurityConfiguration(file, configuration);
  }
  return result;
}
