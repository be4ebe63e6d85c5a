// pods/log, pods/exec, pods/attach and pods/portforward (upstream's LogREST, ExecREST, AttachREST,
// PortForwardREST): the options come from the query, the container is checked against the pod, and the
// request goes to the kubelet of the pod's node — /containerLogs streamed back as text/plain, /exec, /attach
// and /portForward as protocol upgrades. What the kubelet answers is relayed as upstream relays it.

import http from 'node:http';
import https from 'node:https';
import type { ConnectRequest, ConnectSubresource, SubresourceDefinition } from '../../apiserver/registry/resource.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { badRequest, internalError, invalid, StatusError } from '../../apiserver/request/status.js';
import { queryBool } from '../../apiserver/request/query-bool.js';
import { admitConnect } from './connect-admission.js';
import type { KubeletClient } from './kubelet-client.js';
import type { ProxyLocation, ProxyTransport } from './upgrade-aware-proxy.js';
import { proxyConnect, tlsOptions } from './upgrade-aware-proxy.js';
import { backendError } from './dial-errors.js';

type Json = Record<string, unknown>;

/** Exec, attach and port-forward are upgrades; GET for browsers' websockets, POST for SPDY clients. */
const UPGRADEABLE_METHODS = ['GET', 'POST'];
const MAX_ERROR_BODY = 50_000;

function objects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** Every container of the pod, in VisitContainers order: init, regular, ephemeral. */
function containerNames(pod: KubeObject): { regular: string[]; all: string[] } {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const names = (list: unknown) => objects(list).map((container) => String(container.name ?? ''));
  const regular = names(spec.containers);
  return { regular, all: [...names(spec.initContainers), ...regular, ...names(spec.ephemeralContainers)] };
}

/** validateContainer: an empty name means the only container; otherwise it must be one of the pod's. */
export function podContainer(pod: KubeObject, container: string): string {
  const name = pod.metadata.name ?? '';
  const { regular, all } = containerNames(pod);
  if (container === '') {
    if (regular.length === 1) return regular[0];
    if (regular.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
  }
  if (!all.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
  return container;
}

function parseInteger(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^[+-]?\d+$/.test(value)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}

export interface LogOptions {
  container: string;
  follow: boolean;
  previous: boolean;
  timestamps: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  tailLines?: number;
  limitBytes?: number;
  insecureSkipTLSVerifyBackend: boolean;
}

/** PodLogOptions from the query, validated as ValidatePodLogOptions does. */
export function logOptions(query: URLSearchParams, name: string): LogOptions {
  const options: LogOptions = {
    container: query.get('container') ?? '',
    follow: queryBool(query.get('follow')) === true,
    previous: queryBool(query.get('previous')) === true,
    timestamps: queryBool(query.get('timestamps')) === true,
    sinceSeconds: parseInteger(query, 'sinceSeconds'),
    tailLines: parseInteger(query, 'tailLines'),
    limitBytes: parseInteger(query, 'limitBytes'),
    insecureSkipTLSVerifyBackend: queryBool(query.get('insecureSkipTLSVerifyBackend')) === true,
  };
  const sinceTime = query.get('sinceTime');
  if (sinceTime !== null && sinceTime !== '') {
    const parsed = Date.parse(sinceTime);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(sinceTime) || Number.isNaN(parsed)) {
      throw badRequest(`parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(sinceTime)} as "2006"`);
    }
    // Sent to the kubelet as RFC 3339 at second precision, as metav1.Time is.
    options.sinceTime = new Date(Math.floor(parsed / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
  }
  const errors: FieldError[] = [];
  if (options.tailLines !== undefined && options.tailLines < 0) errors.push({ field: 'tailLines', type: 'FieldValueInvalid', value: options.tailLines, detail: 'must be greater than or equal to 0' });
  if (options.limitBytes !== undefined && options.limitBytes < 1) errors.push({ field: 'limitBytes', type: 'FieldValueInvalid', value: options.limitBytes, detail: 'must be greater than 0' });
  if (options.sinceSeconds !== undefined && options.sinceTime !== undefined) {
    errors.push({ field: '', type: 'FieldValueForbidden', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (options.sinceSeconds !== undefined && options.sinceSeconds < 1) {
    errors.push({ field: 'sinceSeconds', type: 'FieldValueInvalid', value: options.sinceSeconds, detail: 'must be greater than 0' });
  }
  if (errors.length > 0) throw invalid('PodLogOptions', '', name, errors);
  return options;
}

/** The kubelet's query for a log request (url.Values.Encode: keys sorted). */
export function kubeletLogQuery(options: LogOptions): string {
  const params: [string, string][] = [];
  if (options.follow) params.push(['follow', 'true']);
  if (options.previous) params.push(['previous', 'true']);
  if (options.timestamps) params.push(['timestamps', 'true']);
  if (options.sinceSeconds !== undefined) params.push(['sinceSeconds', String(options.sinceSeconds)]);
  if (options.sinceTime !== undefined) params.push(['sinceTime', options.sinceTime]);
  if (options.tailLines !== undefined) params.push(['tailLines', String(options.tailLines)]);
  if (options.limitBytes !== undefined) params.push(['limitBytes', String(options.limitBytes)]);
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(params).toString();
}

/** errors.NewGenericServerResponse for a kubelet answer that is not a success (verb left empty, as the checker does). */
export function kubeletResponseError(code: number, body: string, resource: string, name: string): StatusError {
  if (code === 500) return internalError(body);
  if (code === 400) return badRequest(body);
  const known: Record<number, [string, string]> = {
    401: ['Unauthorized', 'the server has asked for the client to provide credentials'],
    403: ['Forbidden', body],
    404: ['NotFound', 'the server could not find the requested resource'],
    405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
    409: ['Conflict', 'the server reported a conflict'],
    422: ['Invalid', 'the server rejected our request due to an error in our request'],
    429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
    503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
    504: ['Timeout', 'the server was unable to return a response in the time allotted, but may still be processing the request'],
  };
  let [reason, message] = known[code] ?? ['', `the server responded with the status code ${code} but did not return more information`];
  if (!known[code] && code >= 500) {
    reason = 'InternalError';
    message = `an error on the server (${JSON.stringify(body)}) has prevented the request from succeeding`;
  }
  return new StatusError(code, reason, `${message} ( ${resource} ${name})`, { name, kind: resource, causes: body ? [{ reason: 'UnexpectedServerResponse', message: body }] : undefined });
}

async function readPod(request: ConnectRequest): Promise<KubeObject> {
  return JSON.parse(await request.store.getBytes(request.namespace, request.name)) as KubeObject;
}

function nodeNameOf(pod: KubeObject): string {
  return isObject(pod.spec) && typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : '';
}

function nodesOf(request: ConnectRequest) {
  const nodes = request.resource('', 'v1', 'nodes');
  if (!nodes) throw internalError('this server does not serve nodes');
  return nodes;
}

/** LocationStreamer: GET the kubelet's log and stream it as text/plain, flushing as it comes when following. */
function streamLog(request: ConnectRequest, location: ProxyLocation, transport: ProxyTransport, follow: boolean): Promise<void> {
  const res = request.res!;
  const url = `${location.scheme}://${location.host}:${location.port}${location.path}${location.query ? `?${location.query}` : ''}`;
  return new Promise((resolve, reject) => {
    const outgoing = https.request({ host: location.host, port: location.port, method: 'GET', path: `${location.path}${location.query ? `?${location.query}` : ''}`, ...tlsOptions(location, transport), agent: transport.agent });
    let connected = false;
    outgoing.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('secureConnect', () => (connected = true));
    });
    outgoing.on('response', (response: http.IncomingMessage) => {
      const code = response.statusCode ?? 500;
      if (code < 200 || code > 206) {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_ERROR_BODY) chunks.push(chunk.subarray(0, MAX_ERROR_BODY - size));
          size += chunk.length;
        });
        response.on('end', () => reject(kubeletResponseError(code, Buffer.concat(chunks).toString('utf8'), 'pods/log', request.name)));
        response.on('error', (error) => reject(internalError(error.message)));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
      if (follow) res.flushHeaders();
      response.pipe(res);
      response.on('error', () => res.destroy());
      res.once('close', () => {
        if (!res.writableFinished) outgoing.destroy();
        resolve();
      });
      res.once('finish', resolve);
    });
    outgoing.on('error', (error: Error & { code?: string }) => {
      if (res.headersSent) {
        res.destroy();
        resolve();
        return;
      }
      reject(internalError(`Get ${JSON.stringify(url)}: ${backendError(error, location, connected)}`));
    });
    outgoing.end();
  });
}

function logSubresource(kubelet: KubeletClient): ConnectSubresource {
  return {
    methods: ['GET'],
    async handle(request) {
      const options = logOptions(request.query, request.name);
      const pod = await readPod(request);
      const container = podContainer(pod, options.container);
      const nodeName = nodeNameOf(pod);
      if (!nodeName) {
        // Upstream streams nothing for a pod no node runs yet: 204 No Content.
        request.res!.writeHead(204).end();
        return;
      }
      const connection = await kubelet.connectionInfo(nodesOf(request), nodeName);
      const location: ProxyLocation = {
        scheme: connection.scheme,
        host: connection.host,
        port: connection.port,
        path: `/containerLogs/${encodeURIComponent(pod.metadata.namespace ?? request.namespace)}/${encodeURIComponent(pod.metadata.name ?? request.name)}/${encodeURIComponent(container)}`,
        query: kubeletLogQuery(options),
      };
      await streamLog(request, location, options.insecureSkipTLSVerifyBackend ? connection.insecureTransport : connection.transport, options.follow);
    },
  };
}

type StreamKind = 'exec' | 'attach' | 'portforward';

const OPTIONS_KIND: Record<StreamKind, string> = { exec: 'PodExecOptions', attach: 'PodAttachOptions', portforward: 'PodPortForwardOptions' };

/** The options object and the kubelet's query (streamParams): stdin → input, stdout → output, stderr → error. */
export function streamOptions(kind: StreamKind, query: URLSearchParams): { options: Json; kubeletQuery: string } {
  const params = new URLSearchParams();
  if (kind === 'portforward') {
    const ports = query.getAll('ports').flatMap((value) => value.split(',')).filter(Boolean);
    for (const port of ports) if (!/^\d+$/.test(port)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(port)}: invalid syntax`);
    if (ports.length) params.append('port', ports.join(','));
    return { options: { kind: OPTIONS_KIND[kind], apiVersion: 'v1', ...(ports.length ? { ports: ports.map(Number) } : {}) }, kubeletQuery: params.toString() };
  }
  // SetDefaults_PodExecOptions / _PodAttachOptions: stdout and stderr unless the query says otherwise.
  const flag = (name: string, fallback: boolean) => queryBool(query.get(name)) ?? fallback;
  const options: Json = { kind: OPTIONS_KIND[kind], apiVersion: 'v1', stdin: flag('stdin', false), stdout: flag('stdout', true), stderr: flag('stderr', true), tty: flag('tty', false), container: query.get('container') ?? '' };
  if (options.stdin) params.append('input', '1');
  if (options.stdout) params.append('output', '1');
  if (options.stderr) params.append('error', '1');
  if (options.tty) params.append('tty', '1');
  if (kind === 'exec') {
    const command = query.getAll('command');
    options.command = command;
    for (const part of command) params.append('command', part);
  }
  return { options, kubeletQuery: params.toString() };
}

function streamSubresource(kind: StreamKind, kubelet: KubeletClient): ConnectSubresource {
  return {
    methods: UPGRADEABLE_METHODS,
    async handle(request) {
      const { options, kubeletQuery } = streamOptions(kind, request.query);
      const pod = await readPod(request);
      const container = kind === 'portforward' ? '' : podContainer(pod, String(options.container ?? ''));
      const nodeName = nodeNameOf(pod);
      if (!nodeName) throw badRequest(`pod ${request.name} does not have a host assigned`);
      await admitConnect(request, kind, options);
      const connection = await kubelet.connectionInfo(nodesOf(request), nodeName);
      const namespace = encodeURIComponent(pod.metadata.namespace ?? request.namespace);
      const podName = encodeURIComponent(pod.metadata.name ?? request.name);
      const path = kind === 'portforward' ? `/portForward/${namespace}/${podName}` : `/${kind}/${namespace}/${podName}/${encodeURIComponent(container)}`;
      const location: ProxyLocation = { scheme: connection.scheme, host: connection.host, port: connection.port, path, query: kubeletQuery };
      await proxyConnect(request, location, connection.transport, { rewrite: false, upgradeRequired: true });
    },
  };
}

/** pods/log, exec, attach and portforward, reaching kubelets through `kubelet`. */
export function podStreamSubresources(kubelet: KubeletClient): Record<string, SubresourceDefinition> {
  return {
    log: { kind: 'Pod', verbs: ['get'], connect: logSubresource(kubelet) },
    exec: { kind: 'PodExecOptions', verbs: ['create', 'get'], connect: streamSubresource('exec', kubelet) },
    attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'], connect: streamSubresource('attach', kubelet) },
    portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'], connect: streamSubresource('portforward', kubelet) },
  };
}
