import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditEvent, SerializationCache } from './event.js';
import { legacyEventLine, serializeEvent } from './event.js';

/** The line as an object serializer would write it: the fields in upstream's order, empty ones left out, map keys sorted. */
function expectedLine(event: AuditEvent): string {
  const sorted = (map: Record<string, unknown> | undefined) => (map && Object.keys(map).length ? Object.fromEntries(Object.keys(map).sort().map((key) => [key, map[key]])) : undefined);
  const user = (shown: AuditEvent['user'] | undefined) =>
    shown && { username: shown.username || undefined, uid: shown.uid || undefined, groups: shown.groups?.length ? shown.groups : undefined, extra: sorted(shown.extra) };
  const ordered = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: event.level,
    auditID: event.auditID,
    stage: event.stage,
    requestURI: event.requestURI,
    verb: event.verb,
    user: user(event.user),
    impersonatedUser: user(event.impersonatedUser),
    sourceIPs: event.sourceIPs?.length ? event.sourceIPs : undefined,
    userAgent: event.userAgent || undefined,
    objectRef: event.objectRef,
    responseStatus: event.responseStatus,
    requestObject: event.requestObject,
    responseObject: event.responseObject,
    requestReceivedTimestamp: event.requestReceivedTimestamp,
    stageTimestamp: event.stageTimestamp,
    annotations: sorted(event.annotations),
  };
  return `${JSON.stringify(ordered)}\n`;
}

const base = (): AuditEvent => ({
  level: 'Metadata',
  auditID: '4a1b1f3e-6a38-4c1d-9a77-7e2b0a6a2f10',
  stage: 'RequestReceived',
  requestURI: '/api/v1/namespaces/default/configmaps/bench',
  verb: 'get',
  user: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
  sourceIPs: ['127.0.0.1'],
  userAgent: 'kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef',
  objectRef: { resource: 'configmaps', namespace: 'default', name: 'bench', apiVersion: 'v1' },
  requestReceivedTimestamp: '2026-11-23T00:01:02.345678Z',
  stageTimestamp: '2026-11-23T00:01:02.345678Z',
});

describe('audit event serialization', () => {
  it('writes the bytes an ordered object serializer would, for every optional field and awkward strings', () => {
    const variants: AuditEvent[] = [
      base(),
      { ...base(), sourceIPs: [], userAgent: undefined, objectRef: undefined, user: {} },
      { ...base(), stage: 'ResponseComplete', responseStatus: { metadata: {}, code: 200 }, annotations: { 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding "cluster-admin"', 'authorization.k8s.io/decision': 'allow' } },
      {
        ...base(),
        level: 'RequestResponse',
        stage: 'ResponseComplete',
        requestURI: '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3D"x"',
        user: { username: 'jane\t"doe"\\', uid: 'u-1', groups: ['dev\u0001'], extra: { 'scopes.b': ['2'], 'scopes.a': ['1'] } },
        impersonatedUser: { username: 'system:serviceaccount:default:x', groups: ['system:serviceaccounts'] },
        sourceIPs: ['10.0.0.1', '::1'],
        userAgent: 'ünïcödé/1 \ud83d\ude00 lone \ud800 <&>\u2028',
        objectRef: { resource: 'configmaps', namespace: 'default', name: 'x', uid: 'abc', apiGroup: '', apiVersion: 'v1', resourceVersion: '12', subresource: 'status' },
        responseStatus: { metadata: {}, status: 'Failure', message: 'configmaps "x" not found', reason: 'NotFound', details: { name: 'x', kind: 'configmaps' }, code: 404 },
        requestObject: { kind: 'ConfigMap', data: { a: 'b\n' } },
        responseObject: { kind: 'Status', code: 404 },
        annotations: { z: '1', a: 'x"y' },
      },
      { ...base(), stage: 'ResponseStarted', responseStatus: { metadata: {}, message: 'Authentication failed, attempted: bearer', code: 401 }, annotations: {} },
    ];
    for (const event of variants) {
      const line = serializeEvent(event);
      assert.equal(line, expectedLine(event));
      assert.deepEqual(JSON.parse(line), JSON.parse(expectedLine(event)));
    }
  });

  it('the parts shared between a request\'s stages and repeated between requests never go stale', () => {
    const event = base();
    const cache: SerializationCache = {};
    assert.equal(serializeEvent(event, cache), expectedLine(event));
    // The next stage: the name completed from the body, the impersonated user, a status and annotations.
    event.stage = 'ResponseComplete';
    event.stageTimestamp = '2026-11-23T00:01:02.400000Z';
    event.objectRef = { ...event.objectRef, name: 'named-later' };
    event.impersonatedUser = { username: 'bob', groups: [] };
    event.responseStatus = { metadata: {}, code: 201 };
    event.annotations = { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' };
    assert.equal(serializeEvent(event, cache), expectedLine(event));

    // Requests by users, clients and decisions that alternate or differ in one detail.
    const groups = ['system:masters'];
    const alternating: AuditEvent[] = [
      { ...base(), user: { username: 'a', groups } },
      { ...base(), user: { username: 'a', groups: ['system:masters', 'x'] } },
      { ...base(), user: { username: 'a', uid: '1', groups } },
      { ...base(), user: { username: 'b', groups }, userAgent: 'other' },
      { ...base(), user: { username: 'b', groups }, sourceIPs: ['10.0.0.2'] },
      { ...base(), annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'r1' } },
      { ...base(), annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'r2' } },
      { ...base(), annotations: { 'authorization.k8s.io/decision': 'allow' } },
      { ...base(), annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'r2', 'k8s.io/extra': 'e' } },
    ];
    for (let round = 0; round < 2; round++) for (const each of alternating) assert.equal(serializeEvent(each), expectedLine(each));
    // An array changed in place after it was serialized.
    const user = { username: 'c', groups: ['one'] };
    assert.equal(serializeEvent({ ...base(), user }), expectedLine({ ...base(), user }));
    user.groups.push('two');
    assert.equal(serializeEvent({ ...base(), user }), expectedLine({ ...base(), user }));
  });

  it('--audit-log-format=legacy writes upstream\'s one-line form', () => {
    const event: AuditEvent = { ...base(), stage: 'ResponseComplete', responseStatus: { metadata: {}, code: 200 }, requestReceivedTimestamp: '2026-11-23T00:01:02.340000Z' };
    assert.equal(
      legacyEventLine(event),
      '2026-11-23T00:01:02.34Z AUDIT: id="4a1b1f3e-6a38-4c1d-9a77-7e2b0a6a2f10" stage="ResponseComplete" ip="127.0.0.1" method="get" user="kubernetes-admin" groups="\\"system:masters\\",\\"system:authenticated\\"" as="<self>" asgroups="<lookup>" user-agent="kubectl/v1.32.0 (linux/amd64) kubernetes/abcdef" namespace="default" uri="/api/v1/namespaces/default/configmaps/bench" response="200"\n',
    );
    const anonymous: AuditEvent = { ...base(), user: {}, sourceIPs: [], objectRef: undefined, userAgent: undefined, impersonatedUser: { username: 'x', groups: ['g'] }, requestReceivedTimestamp: '2026-11-23T00:01:02.000000Z' };
    assert.equal(
      legacyEventLine(anonymous),
      '2026-11-23T00:01:02Z AUDIT: id="4a1b1f3e-6a38-4c1d-9a77-7e2b0a6a2f10" stage="RequestReceived" ip="<unknown>" method="get" user="<none>" groups="<none>" as="x" asgroups="\\"g\\"" user-agent="" namespace="<none>" uri="/api/v1/namespaces/default/configmaps/bench" response="<deferred>"\n',
    );
  });
});
