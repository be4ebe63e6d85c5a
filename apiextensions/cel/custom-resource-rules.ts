// The x-kubernetes-validations of one served CRD version as strategy validation: compiled on first use
// (once per CRD generation: a changed CRD is served from a new definition) and reused for every request.
// The store calls it after pruning and defaulting, so rules see the object as it will be stored.

import type { KubeObject } from '../../apiserver/registry/object.js';
import type { FieldError } from '../../apiserver/request/status.js';
import type { JSONSchema } from '../../apiserver/schema/types.js';
import type { CrdVersion } from '../crd-validation.js';
import type { NodeValidator } from './compile.js';
import { compileSchemaRules } from './compile.js';
import { runRules } from './validate.js';

export type CelRules = (object: KubeObject, old: KubeObject | undefined, warnings: string[]) => FieldError[];

export function celRulesFor(version: CrdVersion): CelRules {
  const schema = version.schema?.openAPIV3Schema as JSONSchema | undefined;
  let validator: NodeValidator | undefined | null = null;
  return (object, old, warnings) => {
    if (!schema) return [];
    // The CRD was validated when written, so compile errors cannot happen here; without a validator there is nothing to run.
    if (validator === null) validator = compileSchemaRules(schema, 'openAPIV3Schema').validator;
    if (!validator) return [];
    const result = runRules(validator, object, old);
    warnings.push(...result.warnings);
    return result.errors;
  };
}
