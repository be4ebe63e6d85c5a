// The admin kubeconfig the launcher hands to kubectl: everything inline (base64 PEM) so the file stays
// valid when copied elsewhere, unlike file-path references into <dataDir>/pki.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomically, type PkiPaths } from './pki.js';

export interface KubeconfigOptions {
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  clusterName?: string;
  userName?: string;
  namespace?: string;
}

export function renderKubeconfig(options: KubeconfigOptions): string {
  const clusterName = options.clusterName ?? 'kube-delegation-chain';
  const userName = options.userName ?? 'admin';
  const contextName = `${userName}@${clusterName}`;
  const base64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: options.server, 'certificate-authority-data': base64(options.caPem) } }],
    users: [
      {
        name: userName,
        user: {
          'client-certificate-data': base64(options.clientCertPem),
          'client-key-data': base64(options.clientKeyPem),
        },
      },
    ],
    contexts: [{ name: contextName, context: { cluster: clusterName, user: userName, namespace: options.namespace ?? 'default' } }],
    'current-context': contextName,
    preferences: {},
  };
  // lineWidth 0: never fold the long base64 scalars.
  return stringify(config, { lineWidth: 0 });
}

/** Rewritten on every start, since the server address may change between runs. */
export async function writeAdminKubeconfig(dataDir: string, server: string, pki: PkiPaths): Promise<string> {
  const [caPem, clientCertPem, clientKeyPem] = await Promise.all([
    readFile(pki.caCert, 'utf8'),
    readFile(pki.adminCert, 'utf8'),
    readFile(pki.adminKey, 'utf8'),
  ]);
  const file = path.resolve(dataDir, 'admin.kubeconfig');
  await writeFileAtomically(file, renderKubeconfig({ server, caPem, clientCertPem, clientKeyPem }), 0o600);
  return file;
}

/** A component's kubeconfig toward the front door, with its own client certificate (--authorization-kubeconfig). */
export async function writeComponentKubeconfig(dataDir: string, server: string, pki: PkiPaths, component: string): Promise<string> {
  const client = pki.clients[component];
  const [caPem, clientCertPem, clientKeyPem] = await Promise.all([readFile(pki.caCert, 'utf8'), readFile(client.cert, 'utf8'), readFile(client.key, 'utf8')]);
  const file = path.resolve(dataDir, `${component}.kubeconfig`);
  await writeFileAtomically(file, renderKubeconfig({ server, caPem, clientCertPem, clientKeyPem, userName: component }), 0o600);
  return file;
}
