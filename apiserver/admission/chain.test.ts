import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TestServer } from '../server/test-server.js';
import { request, startTestServer, widget, WIDGETS } from '../server/test-server.js';
import type { AdmissionAttributes, AdmissionPlugin } from './interface.js';
import { forbidden } from '../request/status.js';

interface Seen {
  phase: 'admit' | 'validate';
  operation: string;
  subresource: string;
  name: string;
  dryRun: boolean;
  object?: Record<string, unknown>;
  oldObject?: Record<string, unknown>;
  options?: Record<string, unknown>;
}

describe('the admission chain on every write of the generic store', () => {
  let server: TestServer;
  const seen: Seen[] = [];
  let behaviour: { admit?: (attributes: AdmissionAttributes) => void; validate?: (attributes: AdmissionAttributes) => void } = {};
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(server.port, method, path, { body, headers });
  const record = (phase: Seen['phase'], attributes: AdmissionAttributes): void => {
    seen.push({
      phase,
      operation: attributes.operation,
      subresource: attributes.subresource,
      name: attributes.name,
      dryRun: attributes.dryRun,
      object: attributes.object && structuredClone(attributes.object),
      oldObject: attributes.oldObject && structuredClone(attributes.oldObject),
      options: attributes.options,
    });
  };
  const plugin: AdmissionPlugin = {
    name: 'Recorder',
    async admit(attributes, context) {
      record('admit', attributes);
      context.warnings.push(`admitted ${attributes.operation}`);
      behaviour.admit?.(attributes);
    },
    async validate(attributes) {
      record('validate', attributes);
      behaviour.validate?.(attributes);
    },
  };

  before(async () => {
    server = await startTestServer();
    server.server.admission.register(plugin);
  });
  after(async () => server.close());
  beforeEach(() => {
    seen.length = 0;
    behaviour = {};
  });

  it('create: mutating then validating, with the mutation stored and warnings on the response', async () => {
    behaviour.admit = (attributes) => {
      attributes.object!.metadata.labels = { admitted: 'yes' };
    };
    const created = await call('POST', WIDGETS, widget('one'));
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json.metadata.labels, { admitted: 'yes' });
    assert.equal(created.headers.warning, '299 - "admitted CREATE"');
    assert.deepEqual(seen.map((entry) => `${entry.phase} ${entry.operation}`), ['admit CREATE', 'validate CREATE']);
    assert.equal(seen[0].name, 'one');
    assert.equal(seen[0].options?.kind, 'CreateOptions');
    assert.equal(seen[1].object?.metadata && (seen[1].object.metadata as Record<string, unknown>).uid, undefined, 'validating admission runs before the object gets its uid');
  });

  it('update, patch and apply are UPDATEs with the old object; the status subresource is named', async () => {
    await call('POST', WIDGETS, widget('two'));
    seen.length = 0;
    assert.equal((await call('PUT', `${WIDGETS}/two`, widget('two', { color: 'blue' }))).status, 200);
    assert.equal((await call('PATCH', `${WIDGETS}/two`, { spec: { color: 'green' } }, { 'content-type': 'application/merge-patch+json' })).status, 200);
    const applied = await call('PATCH', `${WIDGETS}/two?fieldManager=test`, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'two' }, spec: { size: 3 } }, { 'content-type': 'application/apply-patch+yaml' });
    assert.equal(applied.status, 200, applied.text);
    assert.equal((await call('PUT', `${WIDGETS}/two/status`, { ...widget('two'), status: { phase: 'Ready' } })).status, 200);
    const admits = seen.filter((entry) => entry.phase === 'admit');
    assert.deepEqual(admits.map((entry) => `${entry.operation}/${entry.subresource}`), ['UPDATE/', 'UPDATE/', 'UPDATE/', 'UPDATE/status']);
    assert.deepEqual((admits[1].object?.spec as Record<string, unknown>).color, 'green', 'a patch is admitted as the patched object');
    assert.deepEqual((admits[1].oldObject?.spec as Record<string, unknown>).color, 'blue');
    assert.equal(admits[2].options?.kind, 'PatchOptions');
  });

  it('delete and deletecollection are DELETEs of each object with the old object and DeleteOptions', async () => {
    await call('POST', WIDGETS, widget('three'));
    await call('POST', WIDGETS, widget('four'));
    seen.length = 0;
    assert.equal((await call('DELETE', `${WIDGETS}/three?dryRun=All`)).status, 200);
    assert.equal((await call('GET', `${WIDGETS}/three`)).status, 200, 'a dry run deletes nothing');
    assert.equal((await call('DELETE', WIDGETS)).status, 200);
    const deletes = seen.filter((entry) => entry.phase === 'validate');
    assert.deepEqual(deletes[0], { ...deletes[0], operation: 'DELETE', name: 'three', dryRun: true, object: undefined });
    assert.equal(deletes[0].options?.kind, 'DeleteOptions');
    assert.equal((deletes[0].oldObject?.metadata as Record<string, unknown>).name, 'three');
    assert.ok(deletes.length >= 4, 'every remaining widget is admitted on its own');
  });

  it("a plugin's Status reaches the client unchanged; any other failure is a 500, not a crash", async () => {
    behaviour.validate = (attributes) => {
      throw forbidden(`widgets.example.com "${attributes.name}" is forbidden: not today`, { name: attributes.name, group: 'example.com', kind: 'widgets' });
    };
    const refused = await call('POST', WIDGETS, widget('five'));
    assert.equal(refused.status, 403);
    assert.equal(refused.json.message, 'widgets.example.com "five" is forbidden: not today');
    assert.equal(refused.headers.warning, '299 - "admitted CREATE"', 'warnings survive a refusal');
    assert.equal((await call('GET', `${WIDGETS}/five`)).status, 404);
    behaviour.validate = undefined;
    behaviour.admit = () => {
      throw new Error('boom');
    };
    const broken = await call('POST', WIDGETS, widget('six'));
    assert.equal(broken.status, 500);
    assert.equal(broken.json.message, 'Internal error occurred: boom');
    assert.equal(broken.json.reason, 'InternalError');
  });

  it('a mutation that breaks the schema is refused as invalid', async () => {
    behaviour.admit = (attributes) => {
      (attributes.object!.spec as Record<string, unknown>).size = 'huge';
    };
    const refused = await call('POST', WIDGETS, widget('seven'));
    assert.equal(refused.status, 422, refused.text);
    assert.match(refused.json.message, /spec.size/);
  });

  it('dry runs are admitted with dryRun set', async () => {
    assert.equal((await call('POST', `${WIDGETS}?dryRun=All`, widget('eight'))).status, 201);
    assert.deepEqual(seen.map((entry) => entry.dryRun), [true, true]);
  });

  it('runs again on a conflict retry of a read-modify-write', async () => {
    await call('POST', WIDGETS, widget('nine'));
    seen.length = 0;
    let raced = false;
    behaviour.admit = (attributes) => {
      if (attributes.operation !== 'UPDATE' || raced) return;
      raced = true;
      // Another writer gets in between this attempt's read and its write.
      void server.widgets.storage.get(server.widgets.key('default', 'nine')).then(async (kv) => {
        const object = JSON.parse(kv!.value);
        object.metadata.annotations = { racer: 'won' };
        await server.widgets.storage.update(kv!.key, JSON.stringify(object), kv!.modRevision);
      });
    };
    const original = server.widgets.storage.update.bind(server.widgets.storage);
    // Let the racing write land first.
    server.widgets.storage.update = async (...args: Parameters<typeof original>) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return original(...args);
    };
    try {
      // A PUT without a resourceVersion is unconditional: the store retries it on the newer object.
      const updated = await call('PUT', `${WIDGETS}/nine`, widget('nine', { color: 'black' }));
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.json.spec.color, 'black');
    } finally {
      server.widgets.storage.update = original;
    }
    assert.equal(seen.filter((entry) => entry.phase === 'admit').length, 2, 'the second attempt is admitted again');
  });
});
