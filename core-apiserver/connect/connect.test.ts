// The pure parts of the connect subresources: proxy names (`https:svc:8443`), redirect rewriting under the
// proxy path, container choice and log options as upstream validates them, kubelet errors relayed.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { StatusError } from '../../apiserver/request/status.js';
import { isGlobalUnicast, splitSchemeNamePort } from './proxy-locations.js';
import { rewriteLocation } from './upgrade-aware-proxy.js';
import { kubeletLogQuery, kubeletResponseError, logOptions, podContainer, streamOptions } from './pod-streams.js';
import { backendError } from './dial-errors.js';

function thrown(action: () => unknown): StatusError {
  try {
    action();
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  throw new Error('nothing was thrown');
}

describe('proxy names', () => {
  it('splits name, name:port and scheme:name:port', () => {
    assert.deepEqual(splitSchemeNamePort('svc'), { scheme: '', name: 'svc', port: '' });
    assert.deepEqual(splitSchemeNamePort('svc:http'), { scheme: '', name: 'svc', port: 'http' });
    assert.deepEqual(splitSchemeNamePort('https:svc:8443'), { scheme: 'https', name: 'svc', port: '8443' });
    assert.deepEqual(splitSchemeNamePort('http:svc:'), { scheme: 'http', name: 'svc', port: '' });
  });

  it('refuses other schemes, empty names and more parts', () => {
    for (const id of ['ftp:svc:21', ':80', 'a:b:c:d', '', 'https::443']) assert.equal(splitSchemeNamePort(id), undefined, id);
  });

  it('knows which pod addresses may be proxied to (Go IsGlobalUnicast)', () => {
    assert.equal(isGlobalUnicast('10.244.0.2'), true);
    assert.equal(isGlobalUnicast('127.0.0.1'), false);
    assert.equal(isGlobalUnicast('169.254.1.1'), false);
    assert.equal(isGlobalUnicast('0.0.0.0'), false);
    assert.equal(isGlobalUnicast('::1'), false);
    assert.equal(isGlobalUnicast('fd00::5'), true);
    assert.equal(isGlobalUnicast(''), false);
  });
});

describe('redirects under the proxy path', () => {
  const prefix = '/api/v1/namespaces/x/services/https:svc:443/proxy';
  it('puts an absolute path of the backend under the proxy path', () => {
    assert.equal(rewriteLocation('/login?next=%2F', prefix, '10.0.0.7:8443', '127.0.0.1:6443'), `${prefix}/login?next=%2F`);
    assert.equal(rewriteLocation('/dir/', prefix, '10.0.0.7:8443', '127.0.0.1:6443'), `${prefix}/dir/`);
  });

  it('rewrites URLs naming the backend or the API server itself, keeps other hosts and relative references', () => {
    assert.equal(rewriteLocation('https://10.0.0.7:8443/a', prefix, '10.0.0.7:8443', '127.0.0.1:6443'), `${prefix}/a`);
    assert.equal(rewriteLocation('https://127.0.0.1:6443/b', prefix, '10.0.0.7:8443', '127.0.0.1:6443'), `${prefix}/b`);
    assert.equal(rewriteLocation('https://example.com/c', prefix, '10.0.0.7:8443', '127.0.0.1:6443'), 'https://example.com/c');
    assert.equal(rewriteLocation('next', prefix, '10.0.0.7:8443', '127.0.0.1:6443'), 'next');
  });

  it('leaves a path already under the proxy alone', () => {
    assert.equal(rewriteLocation(`${prefix}/x`, prefix, '10.0.0.7:8443', '127.0.0.1:6443'), `${prefix}/x`);
  });
});

describe('pod containers and log options', () => {
  const pod = (containers: string[], init: string[] = [], ephemeral: string[] = []): KubeObject => ({
    metadata: { name: 'x', namespace: 'ns' },
    spec: { initContainers: init.map((name) => ({ name })), containers: containers.map((name) => ({ name })), ephemeralContainers: ephemeral.map((name) => ({ name })) },
  });

  it('picks the only container, and asks for one when there are several', () => {
    assert.equal(podContainer(pod(['a']), ''), 'a');
    const several = thrown(() => podContainer(pod(['a', 'b'], ['init'], ['dbg']), ''));
    assert.equal(several.code, 400);
    assert.equal(several.message, 'a container name must be specified for pod x, choose one of: [init a b dbg]');
    assert.equal(podContainer(pod(['a', 'b'], [], ['dbg']), 'dbg'), 'dbg');
    const unknown = thrown(() => podContainer(pod(['a']), 'y'));
    assert.equal(unknown.message, 'container y is not valid for pod x');
  });

  it('validates log options as ValidatePodLogOptions', () => {
    const invalid = thrown(() => logOptions(new URLSearchParams('tailLines=-1&limitBytes=0'), 'x'));
    assert.equal(invalid.code, 422);
    assert.equal(invalid.message, 'PodLogOptions "x" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]');
    const both = thrown(() => logOptions(new URLSearchParams('sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z'), 'x'));
    assert.equal(both.message, 'PodLogOptions "x" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
    const notNumber = thrown(() => logOptions(new URLSearchParams('tailLines=ten'), 'x'));
    assert.equal(notNumber.code, 400);
  });

  it('sends the kubelet its query with sorted keys', () => {
    const options = logOptions(new URLSearchParams('follow=true&tailLines=10&timestamps=1&sinceTime=2024-01-01T00:00:00.5Z&container=a'), 'x');
    assert.equal(kubeletLogQuery(options), 'follow=true&sinceTime=2024-01-01T00%3A00%3A00Z&tailLines=10&timestamps=true');
  });

  it('maps exec options onto the kubelet parameters, stdout and stderr by default', () => {
    const exec = streamOptions('exec', new URLSearchParams('command=ls&command=-l&stdin=true&tty=true&container=a'));
    assert.equal(exec.kubeletQuery, 'input=1&output=1&error=1&tty=1&command=ls&command=-l');
    assert.deepEqual(exec.options, { kind: 'PodExecOptions', apiVersion: 'v1', stdin: true, stdout: true, stderr: true, tty: true, container: 'a', command: ['ls', '-l'] });
    assert.equal(streamOptions('attach', new URLSearchParams('stdout=false&stderr=false&stdin=1')).kubeletQuery, 'input=1');
    assert.equal(streamOptions('portforward', new URLSearchParams('ports=80&ports=443')).kubeletQuery, 'port=80%2C443');
  });
});

describe('kubelet answers and backend failures', () => {
  it('relays kubelet errors as upstream GenericHttpResponseChecker', () => {
    assert.equal(kubeletResponseError(400, 'no logs', 'pods/log', 'x').message, 'no logs');
    assert.equal(kubeletResponseError(500, 'boom', 'pods/log', 'x').message, 'Internal error occurred: boom');
    const notFound = kubeletResponseError(404, 'pod "x" does not exist', 'pods/log', 'x');
    assert.equal(notFound.message, 'the server could not find the requested resource ( pods/log x)');
    assert.deepEqual(notFound.toStatus().details, { name: 'x', kind: 'pods/log', causes: [{ reason: 'UnexpectedServerResponse', message: 'pod "x" does not exist' }] });
  });

  it('words dial failures as Go does', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.equal(backendError(refused, { host: '127.0.0.1', port: 1 }, false), 'dial tcp 127.0.0.1:1: connect: connection refused');
    const unknownCa = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    assert.equal(backendError(unknownCa, { host: '127.0.0.1', port: 1 }, false), 'tls: failed to verify certificate: x509: certificate signed by unknown authority');
  });
});
