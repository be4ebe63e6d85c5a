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

/** A kubeconfig for one of our own components, with its client certificate (rewritten on every start). */
export async function writeComponentKubeconfig(dataDir: string, name: string, server: string, caFile: string, client: { cert: string; key: string }): Promise<string> {
  return writeClientKubeconfig(path.resolve(dataDir, `${name}.kubeconfig`), server, caFile, client.cert, client.key, name, 'kube-system');
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

/** A kubeconfig for a server process to reach another (e.g. extension servers → core for TokenReviews). */
export async function writeClientKubeconfig(file: string, server: string, caFile: string, certFile: string, keyFile: string, userName: string, namespace?: string): Promise<string> {
  const [caPem, clientCertPem, clientKeyPem] = await Promise.all([readFile(caFile, 'utf8'), readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  await writeFileAtomically(file, renderKubeconfig({ server, caPem, clientCertPem, clientKeyPem, userName, namespace }), 0o600);
  return file;
}

/** A server's kubeconfig toward the front door as itself, with the client certificate the PKI issued it. */
export async function writeServerKubeconfig(dataDir: string, server: string, pki: PkiPaths, component: string): Promise<string> {
  return writeComponentKubeconfig(dataDir, component, server, pki.caCert, pki.clients[component]);
}
