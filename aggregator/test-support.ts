// Test support for the aggregator suites (not itself a test): an APIService store over MemoryStorage, the
// write context the aggregator's own writes use, APIService manifests and a helper to read a 422's causes.

import assert from 'node:assert/strict';
import { GenericStore } from '../apiserver/registry/store.js';
import type { WriteContext } from '../apiserver/registry/store.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import { MemoryStorage } from '../apiserver/storage/memory.js';
import { StatusError } from '../apiserver/request/status.js';
import type { StatusCause } from '../apiserver/request/status.js';
import { apiServices } from './apiservices.js';

/** A system:masters write context, as the aggregator's controllers use. */
export function systemContext(namespace = ''): WriteContext {
  return {
    user: { username: 'system:kube-aggregator', groups: ['system:masters'] },
    namespace,
    warnings: [],
    dryRun: false,
    fieldManager: 'test',
    fieldValidation: 'Ignore',
  };
}

export interface ApiServiceStore {
  store: GenericStore;
  storage: MemoryStorage;
  close(): Promise<void>;
}

export async function apiServiceStore(): Promise<ApiServiceStore> {
  const storage = new MemoryStorage();
  const store = new GenericStore(apiServices, storage);
  await store.cache.start();
  return {
    store,
    storage,
    async close() {
      store.cache.stop();
      await storage.close();
    },
  };
}

/** A base64 PEM that passes the caBundle shape check (its content is never parsed as a certificate). */
export const CA_BUNDLE = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n').toString('base64');

export function localApiService(group: string, version: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `${version}.${group}`, ...metadata },
    spec: { group, version, groupPriorityMinimum: 1000, versionPriority: 100, ...spec },
  };
}

export function remoteApiService(group: string, version: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return localApiService(group, version, { service: { namespace: 'kube-system', name: 'metrics-server' }, insecureSkipTLSVerify: true, ...spec }, metadata);
}

/** Awaits a rejection that must be a StatusError; returns it. */
export async function statusErrorOf(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StatusError, `expected a StatusError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

/** The cause of a 422 for one field (fails when there is none). */
export function causeFor(error: StatusError, field: string): StatusCause {
  assert.equal(error.code, 422, `expected 422 Invalid, got ${error.code}: ${error.message}`);
  assert.equal(error.reason, 'Invalid');
  const cause = error.details?.causes?.find((candidate) => candidate.field === field);
  assert.ok(cause, `no cause for ${field} in: ${error.message}`);
  return cause;
}

/** Decoded objects of a store's cache (what the aggregator's controllers read). */
export async function cachedObjects(store: GenericStore): Promise<Map<string, KubeObject>> {
  await store.cache.syncToLatest();
  const result = new Map<string, KubeObject>();
  for (const cached of store.cache.list(store.resource.storagePrefix)) result.set(cached.name, JSON.parse(cached.bytes) as KubeObject);
  return result;
}
