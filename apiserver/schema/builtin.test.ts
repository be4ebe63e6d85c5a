import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';

import { writeBuiltinSchemas } from '../../scripts/gen-builtin-schemas.js';
import { BUILTIN_SCHEMAS_PATH, builtinSchema, builtinSchemas } from './builtin.js';

describe('builtin schemas', () => {
  // The build writes this file; the test writes it itself (same bytes) so that it depends on no other step.
  before(async () => {
    await writeBuiltinSchemas(BUILTIN_SCHEMAS_PATH);
  });

  it('loads the generated definitions once and shares them', () => {
    const schemas = builtinSchemas();
    assert.ok(schemas['io.k8s.api.core.v1.Pod']);
    assert.equal(builtinSchemas(), schemas);
  });

  it('returns one definition by name', () => {
    assert.equal(builtinSchema('io.k8s.api.core.v1.ConfigMap').type, 'object');
  });

  it('throws a clear error for an unknown definition name', () => {
    assert.throws(() => builtinSchema('io.k8s.api.core.v1.Nope'), /unknown built-in schema "io\.k8s\.api\.core\.v1\.Nope"/);
    assert.throws(() => builtinSchema('constructor'), /unknown built-in schema/);
  });
});
