// The shapes of API objects as the generic registry sees them: loosely typed JSON with metav1.ObjectMeta.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  selfLink?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [key: string]: any;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Deep copy of a JSON value (objects here are always JSON-compatible). */
export function cloneJson<T>(value: T): T {
  return structuredClone(value);
}

let timestampSecond = Number.NaN;
let timestampText = '';

export function nowTimestamp(): string {
  // Kubernetes timestamps have second precision (RFC 3339, UTC, no fraction); every write stamps one, so
  // the text is formatted once per second.
  const second = Math.floor(Date.now() / 1000);
  if (second !== timestampSecond) {
    timestampSecond = second;
    timestampText = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return timestampText;
}
