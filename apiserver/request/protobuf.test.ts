import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtobufObject, isProtobufContentType, type ProtobufKindTable } from './protobuf.js';
import { StatusError } from './status.js';

// ---- a tiny encoder, enough to build the bodies client-go sends ---------------------------------------

function varint(value: number | bigint): Buffer {
  let remaining = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(remaining & 0x7fn);
    remaining >>= 7n;
    bytes.push(remaining > 0n ? low | 0x80 : low);
  } while (remaining > 0n);
  return Buffer.from(bytes);
}

const tag = (field: number, wireType: number): Buffer => varint((field << 3) | wireType);
const int = (field: number, value: number | bigint): Buffer => Buffer.concat([tag(field, 0), varint(value)]);
const bool = (field: number, value: boolean): Buffer => int(field, value ? 1 : 0);
const bytes = (field: number, payload: Buffer): Buffer => Buffer.concat([tag(field, 2), varint(payload.length), payload]);
const str = (field: number, text: string): Buffer => bytes(field, Buffer.from(text, 'utf8'));
const msg = (field: number, ...parts: Buffer[]): Buffer => bytes(field, Buffer.concat(parts));
const entry = (field: number, key: string, value: string | Buffer): Buffer =>
  msg(field, str(1, key), typeof value === 'string' ? str(2, value) : bytes(2, value));
const time = (field: number, date: Date): Buffer => msg(field, int(1, Math.floor(date.getTime() / 1000)), int(2, 0));

function envelope(apiVersion: string, kind: string, ...objectFields: Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    msg(1, str(1, apiVersion), str(2, kind)),
    msg(2, ...objectFields),
    str(3, ''),
    str(4, ''),
  ]);
}

/** ObjectMeta the way Go writes it: every non-pointer scalar present, even when empty. */
function goObjectMeta(name: string, ...extra: Buffer[]): Buffer {
  return msg(1, str(1, name), str(2, ''), str(3, ''), str(4, ''), str(5, ''), str(6, ''), int(7, 0), msg(8), ...extra);
}

function assertBadRequest(action: () => unknown, message: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof StatusError, `expected a StatusError, got ${String(error)}`);
    assert.equal(error.code, 400);
    assert.equal(error.reason, 'BadRequest');
    assert.match(error.message, message);
    return true;
  });
}

const hex = (text: string): Buffer =>
  Buffer.concat(
    text.split(' ').map((token) => (token.startsWith('"') ? Buffer.from(token.slice(1, -1)) : Buffer.from([parseInt(token, 16)]))),
  );

// ---- tests -----------------------------------------------------------------------------------------

describe('decodeProtobufObject', () => {
  it('decodes the body captured from `kubectl create namespace team-a`', () => {
    const body = hex(
      '6b 38 73 00 0a 0f 0a 02 "v1" 12 09 "Namespace" 12 1e 0a 16 0a 06 "team-a" 12 00 1a 00 22 00 2a 00 32 00 38 00 42 00 12 00 1a 02 0a 00 1a 00 22 00',
    );
    assert.deepEqual(decodeProtobufObject(body), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a' },
      spec: {},
      status: {},
    });
  });

  it('decodes a ConfigMap with labels, annotations, data, binaryData and immutable=false', () => {
    const body = envelope(
      'v1',
      'ConfigMap',
      goObjectMeta('settings', str(3, ''), entry(11, 'app', 'web'), entry(11, 'empty', ''), entry(12, 'note', 'hello world')),
      entry(2, 'config.yaml', 'a: 1\n'),
      entry(2, 'blank', ''),
      entry(3, 'logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47])),
      bool(4, false),
    );
    assert.deepEqual(decodeProtobufObject(body), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', labels: { app: 'web', empty: '' }, annotations: { note: 'hello world' } },
      data: { 'config.yaml': 'a: 1\n', blank: '' },
      binaryData: { 'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64') },
      immutable: false,
    });
  });

  it('decodes a Secret with base64 data, stringData, type and immutable', () => {
    const body = envelope(
      'v1',
      'Secret',
      goObjectMeta('creds', str(3, 'team-a')),
      entry(2, 'password', Buffer.from('s3cr3t')),
      str(3, 'Opaque'),
      entry(4, 'user', 'admin'),
      bool(5, true),
    );
    assert.deepEqual(decodeProtobufObject(body), {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds', namespace: 'team-a' },
      data: { password: Buffer.from('s3cr3t').toString('base64') },
      type: 'Opaque',
      stringData: { user: 'admin' },
      immutable: true,
    });
  });

  it('omits a Secret type written as the empty string and leaves absent maps out', () => {
    const body = envelope('v1', 'Secret', goObjectMeta('empty'), str(3, ''));
    assert.deepEqual(decodeProtobufObject(body), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'empty' } });
  });

  it('renders metav1.Time as RFC 3339 at second precision and drops the zero time', () => {
    const created = new Date(Date.UTC(2026, 10, 22, 18, 49, 58));
    const body = envelope(
      'v1',
      'Namespace',
      msg(1, str(1, 'timed'), time(8, created), msg(9), int(7, 3), int(10, 0), str(14, 'kubernetes')),
    );
    assert.deepEqual(decodeProtobufObject(body).metadata, {
      name: 'timed',
      generation: 3,
      creationTimestamp: '2026-11-22T18:49:58Z',
      deletionGracePeriodSeconds: 0,
      finalizers: ['kubernetes'],
    });
  });

  it('ignores nanoseconds, as the Go server does', () => {
    const body = envelope('v1', 'Namespace', msg(1, msg(8, int(1, 0), int(2, 999_000_000))));
    assert.deepEqual(decodeProtobufObject(body).metadata, { creationTimestamp: '1970-01-01T00:00:00Z' });
  });

  it('decodes negative int64 values sent as ten-byte varints', () => {
    const body = envelope('v1', 'Namespace', msg(1, int(10, -1)));
    assert.deepEqual(decodeProtobufObject(body).metadata, { deletionGracePeriodSeconds: -1 });
  });

  it('decodes ownerReferences with upstream field numbering', () => {
    const owner = msg(13, str(1, 'Deployment'), str(3, 'web'), str(4, 'uid-1'), str(5, 'apps/v1'), bool(6, true), bool(7, false));
    const body = envelope('v1', 'ConfigMap', msg(1, str(1, 'owned'), owner));
    assert.deepEqual(decodeProtobufObject(body).metadata, {
      name: 'owned',
      ownerReferences: [
        { kind: 'Deployment', name: 'web', uid: 'uid-1', apiVersion: 'apps/v1', controller: true, blockOwnerDeletion: false },
      ],
    });
  });

  it('decodes a Namespace with spec.finalizers and status.phase', () => {
    const body = envelope('v1', 'Namespace', goObjectMeta('ns'), msg(2, str(1, 'kubernetes')), msg(3, str(1, 'Active')));
    const object = decodeProtobufObject(body);
    assert.deepEqual(object.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(object.status, { phase: 'Active' });
  });

  it('decodes a ServiceAccount with secrets, imagePullSecrets and automountServiceAccountToken=false', () => {
    const body = envelope(
      'v1',
      'ServiceAccount',
      goObjectMeta('robot'),
      msg(2, str(1, 'Secret'), str(3, 'robot-token')),
      msg(3, str(1, 'registry')),
      msg(3, str(1, 'mirror')),
      bool(4, false),
    );
    assert.deepEqual(decodeProtobufObject(body), {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'robot' },
      secrets: [{ kind: 'Secret', name: 'robot-token' }],
      imagePullSecrets: [{ name: 'registry' }, { name: 'mirror' }],
      automountServiceAccountToken: false,
    });
  });

  it('decodes the SelfSubjectAccessReview of `kubectl auth can-i create pods`', () => {
    const attributes = msg(1, str(1, 'default'), str(2, 'create'), str(3, ''), str(4, ''), str(5, 'pods'), str(6, ''), str(7, ''));
    const body = envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', goObjectMeta(''), msg(2, attributes), msg(3, bool(1, false), str(2, '')));
    assert.deepEqual(decodeProtobufObject(body), {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'default', verb: 'create', resource: 'pods' } },
      status: {},
    });
  });

  it('decodes non-resource attributes of a SelfSubjectAccessReview', () => {
    const body = envelope('authorization.k8s.io/v1', 'SelfSubjectAccessReview', msg(2, msg(2, str(1, '/logs'), str(2, 'get'))));
    assert.deepEqual(decodeProtobufObject(body).spec, { nonResourceAttributes: { path: '/logs', verb: 'get' } });
  });

  it('decodes the SelfSubjectRulesReview of `kubectl auth can-i --list`', () => {
    const body = envelope('authorization.k8s.io/v1', 'SelfSubjectRulesReview', goObjectMeta(''), msg(2, str(1, 'default')));
    assert.deepEqual(decodeProtobufObject(body), {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      metadata: {},
      spec: { namespace: 'default' },
    });
  });

  it('decodes a SelfSubjectReview in v1 and v1beta1, including userInfo.extra as arrays', () => {
    const userInfo = msg(
      1,
      str(1, 'alice'),
      str(3, 'system:authenticated'),
      msg(4, str(1, 'scopes'), msg(2, str(1, 'a'), str(1, 'b'))),
      msg(4, str(1, 'none'), msg(2)),
    );
    for (const apiVersion of ['authentication.k8s.io/v1', 'authentication.k8s.io/v1beta1']) {
      const object = decodeProtobufObject(envelope(apiVersion, 'SelfSubjectReview', goObjectMeta(''), msg(2, userInfo)));
      assert.deepEqual(object, {
        apiVersion,
        kind: 'SelfSubjectReview',
        metadata: {},
        status: { userInfo: { username: 'alice', groups: ['system:authenticated'], extra: { scopes: ['a', 'b'], none: [] } } },
      });
    }
  });

  it('skips unknown fields of every wire type', () => {
    const fixed64 = Buffer.concat([tag(90, 1), Buffer.alloc(8)]);
    const fixed32 = Buffer.concat([tag(91, 5), Buffer.alloc(4)]);
    const body = envelope('v1', 'ConfigMap', msg(1, str(1, 'cm'), msg(17, str(1, 'kubectl'))), int(90, 7), fixed64, fixed32, str(92, 'x'));
    assert.deepEqual(decodeProtobufObject(body), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
  });

  it('accepts packed repeated integers in a custom kind table', () => {
    const kinds: ProtobufKindTable = { 'example.com/v1': { Widget: { 1: { name: 'sizes', type: 'int32', repeated: true } } } };
    const packed = bytes(1, Buffer.concat([varint(1), varint(300), varint(-2)]));
    const body = envelope('example.com/v1', 'Widget', packed, int(1, 4));
    assert.deepEqual(decodeProtobufObject(body, kinds), { apiVersion: 'example.com/v1', kind: 'Widget', sizes: [1, 300, -2, 4] });
  });

  it('rejects a body without the k8s\\0 prefix with 400 BadRequest', () => {
    assertBadRequest(() => decodeProtobufObject(Buffer.from('{"kind":"Namespace"}')), /k8s\\x00/);
    assertBadRequest(() => decodeProtobufObject(Buffer.alloc(0)), /prefix/);
  });

  it('rejects a kind it has no table for, asking for JSON', () => {
    const body = envelope('apps/v1', 'StatefulSet', goObjectMeta('web'));
    assertBadRequest(
      () => decodeProtobufObject(body),
      /^unable to decode protobuf body for kind "StatefulSet" in version "apps\/v1": not supported, send JSON$/,
    );
  });

  it('does not treat inherited object properties as kinds', () => {
    assertBadRequest(() => decodeProtobufObject(envelope('v1', 'toString')), /not supported/);
    assertBadRequest(() => decodeProtobufObject(envelope('constructor', 'Namespace')), /not supported/);
  });

  it('rejects an envelope without apiVersion or kind', () => {
    const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), msg(2, goObjectMeta('x'))]);
    assertBadRequest(() => decodeProtobufObject(body), /does not name the apiVersion and kind/);
  });

  it('rejects a compressed payload', () => {
    const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), msg(1, str(1, 'v1'), str(2, 'Namespace')), msg(2), str(3, 'gzip')]);
    assertBadRequest(() => decodeProtobufObject(body), /contentEncoding "gzip"/);
  });

  it('rejects truncated data and names the field being read', () => {
    const inner = Buffer.concat([tag(1, 2), varint(10), Buffer.from('abc')]);
    const body = envelope('v1', 'Namespace', bytes(1, inner));
    assertBadRequest(() => decodeProtobufObject(body), /Namespace.*truncated data.*\(in metadata\.name\)/);
  });

  it('rejects a known field sent with the wrong wire type', () => {
    const body = envelope('v1', 'ConfigMap', int(1, 5));
    assertBadRequest(() => decodeProtobufObject(body), /field metadata has wire type 0, expected 2/);
  });

  it('rejects protobuf groups and invalid wire types', () => {
    const body = envelope('v1', 'ConfigMap', tag(50, 3));
    assertBadRequest(() => decodeProtobufObject(body), /unsupported wire type 3/);
  });

  it('answers every prefix of a valid body with a result or a 400, never another error', () => {
    const body = envelope(
      'v1',
      'Secret',
      goObjectMeta('creds', entry(11, 'app', 'web'), time(8, new Date(0))),
      entry(2, 'k', Buffer.from('v')),
      bool(5, true),
    );
    for (let length = 0; length < body.length; length++) {
      try {
        decodeProtobufObject(body.subarray(0, length));
      } catch (error) {
        assert.ok(error instanceof StatusError && error.code === 400, `prefix of ${length} bytes threw ${String(error)}`);
      }
    }
  });
});

describe('isProtobufContentType', () => {
  it('recognises the Kubernetes protobuf media type with or without parameters', () => {
    assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf'), true);
    assert.equal(isProtobufContentType('Application/VND.Kubernetes.Protobuf; charset=utf-8'), true);
    assert.equal(isProtobufContentType('application/json'), false);
    assert.equal(isProtobufContentType('application/vnd.kubernetes.protobuf;stream=watch'), true);
    assert.equal(isProtobufContentType(''), false);
  });
});
