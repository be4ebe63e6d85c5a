// The sample extension is registered the way any user registers an extension API server: a selector-less
// Service in kube-system, its Endpoints, and an APIService with a caBundle (not insecureSkipTLSVerify).

import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { PkiPaths } from './pki.js';

function apply(url: string, pki: PkiPaths, path: string, object: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(object);
    const request = https.request(
      `${url}${path}?fieldManager=launcher&force=true`,
      {
        method: 'PATCH',
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.adminCert),
        key: readFileSync(pki.adminKey),
        headers: { 'Content-Type': 'application/apply-patch+yaml', 'Content-Length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => (response.statusCode && response.statusCode < 300 ? resolve() : reject(new Error(`apply ${path}: ${response.statusCode} ${text}`))));
      },
    );
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error(`apply ${path}: timeout`)));
    request.end(body);
  });
}

function getJson(url: string, pki: PkiPaths, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const request = https.request(`${url}${path}`, { ca: readFileSync(pki.caCert), cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey), timeout: 5000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text || '{}') as Record<string, unknown> }));
    });
    request.on('error', reject);
    request.end();
  });
}

/** RBAC for an identity, as a component's manifests ship it: a ClusterRole and its binding. */
async function grant(url: string, pki: PkiPaths, name: string, rules: Record<string, unknown>[], subject: { kind: 'User' | 'Group'; name: string }): Promise<void> {
  await apply(url, pki, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules });
  await apply(url, pki, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', ...subject }],
  });
}

/** What a node agent (kubelet, with our scheduler beside it) may do, for the group system:nodes. */
export async function registerNodeAgentAccess(url: string, pki: PkiPaths): Promise<void> {
  await grant(
    url,
    pki,
    'kdc:node-agent',
    [
      { apiGroups: [''], resources: ['nodes'], verbs: ['create', 'get', 'list', 'watch', 'patch', 'update'] },
      { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch', 'update'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
      { apiGroups: [''], resources: ['pods/status'], verbs: ['patch', 'update'] },
      { apiGroups: [''], resources: ['pods/binding'], verbs: ['create'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch', 'update'] },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'patch', 'update'] },
    ],
    { kind: 'Group', name: 'system:nodes' },
  );
}

/** metrics-server's own RBAC: read Nodes and Pods, scrape kubelets. */
export async function grantMetricsServerAccess(url: string, pki: PkiPaths): Promise<void> {
  await grant(
    url,
    pki,
    'system:metrics-server',
    [
      { apiGroups: [''], resources: ['nodes/metrics'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
    ],
    { kind: 'User', name: 'system:metrics-server' },
  );
}

export async function registerMetricsExtension(url: string, pki: PkiPaths, port: number): Promise<void> {
  await grantMetricsServerAccess(url, pki);
  await apply(url, pki, '/api/v1/namespaces/kube-system/services/metrics-server', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'metrics-server', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
    spec: { ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] },
  });
  await apply(url, pki, '/api/v1/namespaces/kube-system/endpoints/metrics-server', {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'metrics-server', namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } },
    subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  });
  await apply(url, pki, '/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io', {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'k8s-app': 'metrics-server' } },
    spec: {
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      service: { namespace: 'kube-system', name: 'metrics-server', port: 443 },
      caBundle: readFileSync(pki.caCert).toString('base64'),
      groupPriorityMinimum: 100,
      versionPriority: 100,
    },
  });
}

/** Waits until the APIService reports Available=True (the availability controller probes every 2 s). */
export async function waitForApiService(url: string, pki: PkiPaths, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not found';
  while (Date.now() < deadline) {
    const { status, body } = await getJson(url, pki, `/apis/apiregistration.k8s.io/v1/apiservices/${name}`);
    if (status === 200) {
      const conditions = ((body.status as { conditions?: { type: string; status: string; reason?: string; message?: string }[] } | undefined)?.conditions ?? []);
      const available = conditions.find((condition) => condition.type === 'Available');
      if (available?.status === 'True') return;
      last = available ? `${available.reason}: ${available.message}` : 'no condition yet';
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`APIService ${name} not available: ${last}`);
}
