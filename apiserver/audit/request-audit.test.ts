// Audit events through the real request pipeline (an ApiServer on memory storage, plain HTTP).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../server/test-server.js';
import { request, startTestServer, watch } from '../server/test-server.js';
import type { AuditBackend } from './log-backend.js';
import { LogBackend } from './log-backend.js';
import { sourceIPs } from './request-audit.js';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { parsePolicy } from './policy.js';
import { microTimestamp } from './event.js';
import { registry } from '../metrics/registry.js';

class MemoryBackend implements AuditBackend {
  lines: string[] = [];
  write(line: string): boolean {
    this.lines.push(line);
    return true;
  }
  async close(): Promise<void> {}
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  events(auditID: string): any[] {
    return this.lines.map((line) => JSON.parse(line)).filter((event) => event.auditID === auditID);
  }
}

const backend = new MemoryBackend();
let test: TestServer;

const policy = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    resources: [{group: example.com, resources: [gadgets]}]
  - level: RequestResponse
    resources: [{group: example.com, resources: [widgets]}]
    namespaces: [full]
    omitManagedFields: true
  - level: Request
    resources: [{group: example.com, resources: [widgets]}]
    namespaces: [request]
  - level: Metadata
    omitStages: [RequestReceived]
    namespaces: [quiet]
  - level: Metadata
`);

before(async () => {
  test = await startTestServer({ audit: { policy, backend }, authorizer: async (user, info) => (info.namespace === 'denied' ? { allowed: false, reason: 'no rule allows it' } : { allowed: true, reason: 'test says yes' }) });
});
after(async () => {
  await test.close();
});

const widget = (name: string) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec: { color: 'red' } });

async function eventsFor(auditID: string, count: number) {
  const deadline = Date.now() + 5000;
  while (backend.events(auditID).length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return backend.events(auditID);
}

describe('audit events', () => {
  it('every response carries an Audit-Id, also when nothing is audited', async () => {
    const response = await request(test.port, 'GET', '/apis/example.com/v1/gadgets');
    assert.match(String(response.headers['audit-id']), /^[0-9a-f-]{36}$/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(backend.events(String(response.headers['audit-id'])).length, 0);
  });

  it('a Metadata create has RequestReceived and ResponseComplete with upstream\'s fields, objectRef named from the body', async () => {
    const response = await request(test.port, 'POST', '/apis/example.com/v1/namespaces/default/widgets', { body: widget('meta'), headers: { 'User-Agent': 'kubectl/v1.32.0 (linux/amd64)' } });
    assert.equal(response.status, 201);
    const auditID = String(response.headers['audit-id']);
    const [received, complete] = await eventsFor(auditID, 2);
    assert.deepEqual(Object.keys(received), ['kind', 'apiVersion', 'level', 'auditID', 'stage', 'requestURI', 'verb', 'user', 'sourceIPs', 'userAgent', 'objectRef', 'requestReceivedTimestamp', 'stageTimestamp']);
    assert.equal(received.stage, 'RequestReceived');
    assert.deepEqual(received.objectRef, { resource: 'widgets', namespace: 'default', apiGroup: 'example.com', apiVersion: 'v1' });
    assert.deepEqual(Object.keys(complete), ['kind', 'apiVersion', 'level', 'auditID', 'stage', 'requestURI', 'verb', 'user', 'sourceIPs', 'userAgent', 'objectRef', 'responseStatus', 'requestReceivedTimestamp', 'stageTimestamp', 'annotations']);
    assert.equal(complete.kind, 'Event');
    assert.equal(complete.apiVersion, 'audit.k8s.io/v1');
    assert.equal(complete.level, 'Metadata');
    assert.equal(complete.stage, 'ResponseComplete');
    assert.equal(complete.verb, 'create');
    assert.equal(complete.requestURI, '/apis/example.com/v1/namespaces/default/widgets');
    assert.deepEqual(complete.user, { username: 'system:anonymous', groups: ['system:unauthenticated'] });
    assert.deepEqual(complete.sourceIPs, ['127.0.0.1']);
    assert.equal(complete.userAgent, 'kubectl/v1.32.0 (linux/amd64)');
    assert.deepEqual(complete.objectRef, { resource: 'widgets', namespace: 'default', name: 'meta', apiGroup: 'example.com', apiVersion: 'v1' });
    assert.deepEqual(complete.responseStatus, { metadata: {}, code: 201 });
    assert.equal(complete.requestObject, undefined);
    assert.equal(complete.responseObject, undefined);
    assert.match(complete.stageTimestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    assert.equal(complete.requestReceivedTimestamp, received.stageTimestamp);
    assert.ok(complete.stageTimestamp >= complete.requestReceivedTimestamp);
    assert.deepEqual(complete.annotations, { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'test says yes' });
  });

  it('Request level has the request object but not the response; RequestResponse has both, without managedFields', async () => {
    const created = await request(test.port, 'POST', '/apis/example.com/v1/namespaces/request/widgets', { body: widget('req') });
    const requestLevel = (await eventsFor(String(created.headers['audit-id']), 2))[1];
    assert.equal(requestLevel.level, 'Request');
    assert.deepEqual(requestLevel.requestObject, widget('req'));
    assert.equal(requestLevel.responseObject, undefined);

    const full = await request(test.port, 'POST', '/apis/example.com/v1/namespaces/full/widgets', { body: widget('both') });
    const event = (await eventsFor(String(full.headers['audit-id']), 2))[1];
    assert.equal(event.level, 'RequestResponse');
    assert.deepEqual(event.requestObject, widget('both'));
    assert.equal(event.responseObject.metadata.name, 'both');
    assert.equal(event.responseObject.metadata.uid, full.json.metadata.uid);
    assert.ok(full.json.metadata.managedFields, 'the object has managedFields');
    assert.equal(event.responseObject.metadata.managedFields, undefined, 'omitManagedFields drops them');

    // An update names the object's uid and resourceVersion from its body.
    const updated = await request(test.port, 'PUT', '/apis/example.com/v1/namespaces/full/widgets/both', { body: { ...full.json, spec: { color: 'blue' } } });
    assert.equal(updated.status, 200);
    const update = (await eventsFor(String(updated.headers['audit-id']), 2))[1];
    assert.deepEqual(update.objectRef, { resource: 'widgets', namespace: 'full', name: 'both', uid: full.json.metadata.uid, apiGroup: 'example.com', apiVersion: 'v1', resourceVersion: full.json.metadata.resourceVersion });
  });

  it('a delete\'s DeleteOptions are its request object at Request level', async () => {
    await request(test.port, 'POST', '/apis/example.com/v1/namespaces/request/widgets', { body: widget('doomed') });
    const options = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' };
    const deleted = await request(test.port, 'DELETE', '/apis/example.com/v1/namespaces/request/widgets/doomed', { body: options });
    assert.equal(deleted.status, 200);
    const event = (await eventsFor(String(deleted.headers['audit-id']), 2))[1];
    assert.equal(event.verb, 'delete');
    assert.deepEqual(event.requestObject, options);
    assert.deepEqual(event.objectRef, { resource: 'widgets', namespace: 'request', name: 'doomed', apiGroup: 'example.com', apiVersion: 'v1' });
    assert.equal(event.responseStatus.code, 200);
  });

  it('a YAML apply patch is logged as the object it describes', async () => {
    const yaml = 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: applied\nspec:\n  color: green\n';
    const response = await request(test.port, 'PATCH', '/apis/example.com/v1/namespaces/request/widgets/applied?fieldManager=audit-test', { body: yaml, headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    assert.equal(response.status, 201);
    const event = (await eventsFor(String(response.headers['audit-id']), 2))[1];
    assert.equal(event.verb, 'patch');
    assert.deepEqual(event.requestObject, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'applied' }, spec: { color: 'green' } });
  });

  it('errors carry the Status fields; a denied request says forbid and why', async () => {
    const missing = await request(test.port, 'GET', '/apis/example.com/v1/namespaces/default/widgets/nope');
    assert.equal(missing.status, 404);
    const notFound = (await eventsFor(String(missing.headers['audit-id']), 2))[1];
    assert.deepEqual(notFound.responseStatus, { metadata: {}, status: 'Failure', message: 'widgets.example.com "nope" not found', reason: 'NotFound', details: { name: 'nope', group: 'example.com', kind: 'widgets' }, code: 404 });

    const denied = await request(test.port, 'GET', '/apis/example.com/v1/namespaces/denied/widgets');
    assert.equal(denied.status, 403);
    const forbidden = (await eventsFor(String(denied.headers['audit-id']), 2))[1];
    assert.equal(forbidden.responseStatus.code, 403);
    assert.equal(forbidden.responseStatus.reason, 'Forbidden');
    assert.deepEqual(forbidden.annotations, { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': 'no rule allows it' });
  });

  it('omitStages leaves out the stage; request-state annotations appear in the events', async () => {
    const response = await request(test.port, 'GET', '/api/v1/namespaces/quiet/pods');
    const events = await eventsFor(String(response.headers['audit-id']), 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(backend.events(String(response.headers['audit-id'])).map((event) => event.stage), ['ResponseComplete']);
    assert.equal(events[0].responseStatus.code, 404);
  });

  it('a watch has RequestReceived, ResponseStarted when it starts streaming, ResponseComplete when it ends', async () => {
    const stream = await watch(test.port, '/apis/example.com/v1/namespaces/default/widgets?watch=true');
    const auditID = String(stream.headers['audit-id']);
    const started = await eventsFor(auditID, 2);
    assert.deepEqual(started.map((event) => event.stage), ['RequestReceived', 'ResponseStarted']);
    assert.equal(started[1].verb, 'watch');
    assert.deepEqual(started[1].responseStatus, { metadata: {}, code: 200 });
    stream.close();
    const all = await eventsFor(auditID, 3);
    assert.deepEqual(all.map((event) => event.stage), ['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
    assert.deepEqual(all[2].responseStatus, { metadata: {}, code: 200 });
  });

  it('reuses an Audit-Id only from a trusted front proxy', async () => {
    const response = await request(test.port, 'GET', '/apis/example.com/v1/namespaces/default/widgets', { headers: { 'Audit-Id': 'spoofed-id' } });
    assert.notEqual(response.headers['audit-id'], 'spoofed-id');
  });

  it('an unexpected failure in a handler is a Panic event instead of ResponseComplete', async () => {
    test.server.addRoute(async (req) => {
      if (req.url !== '/explode') return false;
      throw new TypeError('cannot read properties of undefined');
    });
    const originalError = console.error;
    console.error = () => undefined; // the server logs the failure; not this test's output
    try {
      const response = await request(test.port, 'GET', '/explode');
      assert.equal(response.status, 500);
      const events = await eventsFor(String(response.headers['audit-id']), 2);
      assert.deepEqual(events.map((event) => event.stage), ['RequestReceived', 'Panic']);
      assert.deepEqual(events[1].responseStatus, { metadata: {}, status: 'Failure', message: "APIServer panic'd: cannot read properties of undefined", reason: 'InternalError', code: 500 });
    } finally {
      console.error = originalError;
    }
  });

  it('a client that goes away before any response: ResponseComplete with upstream\'s faked success', async () => {
    test.server.addRoute(async (req) => {
      if (req.url !== '/hang') return false;
      await new Promise((resolve) => req.once('close', resolve));
      return true;
    });
    const before = backend.lines.length;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: test.port, path: '/hang' });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 200);
    });
    const deadline = Date.now() + 5000;
    const events = () => backend.lines.slice(before).map((line) => JSON.parse(line)).filter((event) => event.requestURI === '/hang');
    while (events().length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(events().map((event) => event.stage), ['RequestReceived', 'ResponseComplete']);
    assert.deepEqual(events()[1].responseStatus, { metadata: {}, status: 'Success', message: 'Connection closed early', code: 200 });
  });

  it('a failed authentication is one ResponseStarted event without a user, saying what was tried', async () => {
    const strict = await startTestServer({ audit: { policy, backend }, authentication: { clientCa: [], untrustedIdentityHeaders: 'reject' } });
    try {
      const response = await request(strict.port, 'GET', '/apis/example.com/v1/namespaces/default/widgets', { headers: { 'X-Remote-User': 'mallory', Authorization: 'Bearer not-a-token' } });
      assert.equal(response.status, 401);
      const [event] = await eventsFor(String(response.headers['audit-id']), 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(backend.events(String(response.headers['audit-id'])).length, 1);
      assert.equal(event.stage, 'ResponseStarted');
      assert.deepEqual(event.user, {});
      assert.deepEqual(event.responseStatus, { metadata: {}, message: 'Authentication failed, attempted: bearer', code: 401 });
    } finally {
      await strict.close();
    }
  });

  it('blocking-strict: a request whose RequestReceived event cannot be written fails with a 500; blocking serves it anyway', async () => {
    const originalWrite = process.stderr.write;
    process.stderr.write = () => true; // the backend reports the failed writes there
    const strict = await startTestServer({ audit: { policy, backend: new LogBackend({ path: '/dev/full', mode: 'blocking-strict' }) } });
    const blocking = await startTestServer({ audit: { policy, backend: new LogBackend({ path: '/dev/full' }) } });
    try {
      const failed = await request(strict.port, 'GET', '/apis/example.com/v1/namespaces/default/widgets');
      assert.equal(failed.status, 500);
      assert.equal(failed.json.reason, 'InternalError');
      assert.equal(failed.json.message, 'Internal error occurred: failed to store audit event');
      // Not audited at all (level None) is not affected.
      assert.equal((await request(strict.port, 'GET', '/apis/example.com/v1/gadgets')).status, 200);
      assert.equal((await request(blocking.port, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).status, 200);
    } finally {
      await strict.close();
      await blocking.close();
      process.stderr.write = originalWrite;
    }
  });

  it('--audit-log-format=legacy: one text line per stage, with the same audit ID', async () => {
    const legacy = new MemoryBackend();
    const server = await startTestServer({ audit: { policy, backend: legacy, format: 'legacy' } });
    try {
      const response = await request(server.port, 'GET', '/apis/example.com/v1/namespaces/default/widgets/nope', { headers: { 'User-Agent': 'kubectl/v1.32.0' } });
      const auditID = String(response.headers['audit-id']);
      for (let wait = 0; wait < 100 && legacy.lines.length < 2; wait++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(legacy.lines.length, 2);
      assert.match(legacy.lines[0], new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z AUDIT: id="${auditID}" stage="RequestReceived" ip="127.0.0.1" method="get" user="system:anonymous" groups="\\\\"system:unauthenticated\\\\"" as="<self>" asgroups="<lookup>" user-agent="kubectl/v1.32.0" namespace="default" uri="/apis/example.com/v1/namespaces/default/widgets/nope" response="<deferred>"\n$`));
      assert.match(legacy.lines[1], new RegExp(`AUDIT: id="${auditID}" stage="ResponseComplete" .* response="404"\n$`));
    } finally {
      await server.close();
    }
  });

  it('apiserver_audit_level_total counts requests by level and apiserver_audit_event_total the events', async () => {
    const value = async (name: string, level?: string) => {
      const metric = (await registry.getSingleMetric(name)?.get())?.values.find((sample) => !level || sample.labels.level === level);
      return metric?.value ?? 0;
    };
    const [metadata, none, events] = [await value('apiserver_audit_level_total', 'Metadata'), await value('apiserver_audit_level_total', 'None'), await value('apiserver_audit_event_total')];
    await request(test.port, 'GET', '/api/v1/namespaces/counted/pods');
    await request(test.port, 'GET', '/api/v1/namespaces/counted/pods');
    await request(test.port, 'GET', '/apis/example.com/v1/gadgets');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await value('apiserver_audit_level_total', 'Metadata'), metadata + 2);
    assert.equal(await value('apiserver_audit_level_total', 'None'), none + 1);
    // The memory backend of this suite does not count; a log backend counts what it is given.
    const log = new LogBackend({ path: '/dev/null' });
    log.write('{}\n');
    log.write('{}\n');
    await log.close();
    assert.equal(await value('apiserver_audit_event_total'), events + 2);
  });

  it('sourceIPs as upstream\'s utilnet.SourceIPs: the forwarded chain, X-Real-Ip if new, the peer unless it ends the chain', () => {
    const ips = (remoteAddress: string, headers: Record<string, string> = {}) => sourceIPs({ socket: { remoteAddress }, headers } as unknown as IncomingMessage);
    assert.deepEqual(ips('::ffff:127.0.0.1'), ['127.0.0.1']);
    assert.deepEqual(ips('::1'), ['::1']);
    assert.deepEqual(ips('10.0.0.9', { 'x-forwarded-for': '1.2.3.4, bogus, 1.2.3.4 ,::ffff:5.6.7.8' }), ['1.2.3.4', '1.2.3.4', '5.6.7.8', '10.0.0.9']);
    assert.deepEqual(ips('10.0.0.9', { 'x-forwarded-for': '1.2.3.4, 10.0.0.9' }), ['1.2.3.4', '10.0.0.9']);
    assert.deepEqual(ips('10.0.0.9', { 'x-forwarded-for': '10.0.0.9, 1.2.3.4' }), ['10.0.0.9', '1.2.3.4', '10.0.0.9']);
    assert.deepEqual(ips('10.0.0.9', { 'x-real-ip': '1.2.3.4' }), ['1.2.3.4', '10.0.0.9']);
    assert.deepEqual(ips('10.0.0.9', { 'x-forwarded-for': '1.2.3.4', 'x-real-ip': '1.2.3.4' }), ['1.2.3.4', '10.0.0.9']);
    assert.deepEqual(ips('10.0.0.9', { 'x-forwarded-for': '1.2.3.4', 'x-real-ip': '1.2.3.4' }), ['1.2.3.4', '10.0.0.9'], 'the same again');
    assert.deepEqual(ips('10.0.0.8', { 'x-forwarded-for': '1.2.3.4', 'x-real-ip': '1.2.3.4' }), ['1.2.3.4', '10.0.0.8'], 'another peer');
  });

  it('microsecond timestamps are RFC 3339 with six digits', () => {
    assert.equal(microTimestamp(Date.UTC(2026, 10, 23, 0, 1, 2, 345) * 1000 + 678), '2026-11-23T00:01:02.345678Z');
  });
});
