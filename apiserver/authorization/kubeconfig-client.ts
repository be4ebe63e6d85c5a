// The API client of --authorization-kubeconfig: extension servers ask core (through the aggregator, as any
// client does) for SubjectAccessReviews with the framework's KubeClient.

import { KubeClient } from '../client/kube-client.js';

export interface ApiClient {
  readonly server: string;
  post(path: string, body: unknown, timeoutMs?: number): Promise<{ status: number; body: Record<string, unknown> }>;
}

export function clientFromKubeconfig(path: string): ApiClient {
  const client = KubeClient.fromKubeconfig(path);
  return { server: client.url, post: (requestPath, body, timeoutMs) => client.raw('POST', requestPath, body, timeoutMs) };
}
