// An extension server without --requestheader-client-ca-file (or --client-ca-file) learns whom to trust
// from kube-system/extension-apiserver-authentication, which core publishes — as upstream's delegating
// authentication does: the front proxy's CA, its allowed names and header names, and the client CA.

import { X509Certificate } from 'node:crypto';
import type { AuthenticationConfig } from '../filters/authenticate.js';
import { KubeClient } from '../client/kube-client.js';

const PATH = '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication';

export interface ConfigMapTrust {
  clientCaPem?: string;
  requestHeaderCaPem?: string;
}

function certificates(pem: string): X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

function list(data: Record<string, string>, key: string): string[] {
  try {
    const value = JSON.parse(data[key] ?? '[]') as unknown;
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

/**
 * Fills in what the flags left out from the ConfigMap; returns the PEMs added (the TLS listener asks
 * clients for certificates of these authorities).
 */
export async function trustFromConfigMap(kubeconfigFile: string, authentication: AuthenticationConfig, need: { clientCa: boolean; requestHeader: boolean }): Promise<ConfigMapTrust> {
  const answer = await KubeClient.fromKubeconfig(kubeconfigFile).raw('GET', PATH);
  if (answer.status !== 200) throw new Error(`GET ${PATH}: ${answer.status} ${(answer.body as { message?: string }).message ?? ''}`);
  const data = ((answer.body as { data?: Record<string, string> }).data ?? {}) as Record<string, string>;
  const trust: ConfigMapTrust = {};
  if (need.clientCa && data['client-ca-file']) {
    authentication.clientCa = certificates(data['client-ca-file']);
    trust.clientCaPem = data['client-ca-file'];
  }
  if (need.requestHeader && data['requestheader-client-ca-file']) {
    authentication.requestHeader = {
      clientCa: certificates(data['requestheader-client-ca-file']),
      allowedNames: list(data, 'requestheader-allowed-names'),
      usernameHeaders: list(data, 'requestheader-username-headers'),
      uidHeaders: list(data, 'requestheader-uid-headers'),
      groupHeaders: list(data, 'requestheader-group-headers'),
      extraHeadersPrefixes: list(data, 'requestheader-extra-headers-prefix'),
    };
    trust.requestHeaderCaPem = data['requestheader-client-ca-file'];
  }
  return trust;
}
