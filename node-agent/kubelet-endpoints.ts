// The kubelet endpoints beyond metrics that the API server calls for `kubectl logs`, `exec`, `attach`,
// `port-forward` and `get --raw /api/v1/nodes/<node>/proxy/pods`. Pods here run on a simulated runtime —
// no container ever starts — so there are no logs to read and no process to exec into or attach to. The
// agent says so, with the status codes a kubelet answers when its runtime fails these operations (400 for
// logs, 500 for streaming), after the same checks a kubelet makes first (the pod and container exist,
// stdin/stdout/stderr asked for). Streaming errors reach kubectl as the raw body of a refused upgrade, which
// client-go first tries to decode as a YAML Status: their text holds no ": ", or it would decode as an empty
// mapping and kubectl would print nothing.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../apiserver/registry/object.js';
import { isObject } from '../apiserver/registry/object.js';

export const NO_RUNTIME = 'the node agent simulates containers and has no container runtime';

type Json = Record<string, unknown>;

function containerNames(pod: KubeObject): string[] {
  const spec = isObject(pod.spec) ? pod.spec : {};
  return ['initContainers', 'containers', 'ephemeralContainers'].flatMap((field) =>
    (Array.isArray(spec[field]) ? (spec[field] as unknown[]) : []).filter(isObject).map((container) => String((container as Json).name ?? '')),
  );
}

/** Plain text, as go-restful's WriteError writes it; the connection closes (it may have asked for an upgrade). */
function fail(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  res.end(message);
}

function decode(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    return '';
  }
}

/** Answers the request when it is one of these endpoints; false lets the caller answer 404. */
export function serveKubeletEndpoint(req: IncomingMessage, res: ServerResponse, pods: () => KubeObject[]): boolean {
  const url = new URL(req.url ?? '/', 'https://kubelet.invalid');
  const parts = url.pathname.split('/').filter(Boolean);
  const find = (namespace: string, name: string) => pods().find((pod) => pod.metadata.namespace === namespace && pod.metadata.name === name);

  if (url.pathname === '/pods' || url.pathname === '/pods/') {
    if (req.method !== 'GET') return false;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: pods() }));
    return true;
  }

  if (parts[0] === 'containerLogs' && parts.length === 4) {
    if (req.method !== 'GET') return false;
    const [namespace, name, container] = parts.slice(1).map(decode);
    const pod = find(namespace, name);
    if (!pod) return fail(res, 404, `pod ${JSON.stringify(name)} does not exist`), true;
    if (!containerNames(pod).includes(container)) return fail(res, 404, `container ${JSON.stringify(container)} not found in pod ${JSON.stringify(name)}`), true;
    fail(res, 400, `${NO_RUNTIME}: container ${JSON.stringify(container)} of pod ${JSON.stringify(`${namespace}/${name}`)} never ran, so it has no logs`);
    return true;
  }

  const streaming = { exec: 'run a command in', attach: 'attach to' } as Record<string, string>;
  if (streaming[parts[0]] && (parts.length === 4 || parts.length === 5)) {
    if (req.method !== 'GET' && req.method !== 'POST') return false;
    const [namespace, name] = parts.slice(1, 3).map(decode);
    const container = decode(parts[parts.length - 1]);
    const query = url.searchParams;
    // remotecommand's NewOptions, checked before the pod is looked up.
    if (!['input', 'output', 'error'].some((param) => query.get(param) === '1' || query.get(param) === 'true')) {
      return fail(res, 400, 'you must specify at least 1 of stdin, stdout, stderr'), true;
    }
    if (!find(namespace, name)) return fail(res, 404, 'pod does not exist'), true;
    fail(res, 500, `${NO_RUNTIME}, so it cannot ${streaming[parts[0]]} container ${JSON.stringify(container)} of pod ${JSON.stringify(`${namespace}/${name}`)}`);
    return true;
  }

  if (parts[0] === 'portForward' && (parts.length === 3 || parts.length === 4)) {
    if (req.method !== 'GET' && req.method !== 'POST') return false;
    const [namespace, name] = parts.slice(1, 3).map(decode);
    if (!find(namespace, name)) return fail(res, 404, 'pod does not exist'), true;
    fail(res, 500, `${NO_RUNTIME}, so it cannot forward ports to pod ${JSON.stringify(`${namespace}/${name}`)}`);
    return true;
  }
  return false;
}
