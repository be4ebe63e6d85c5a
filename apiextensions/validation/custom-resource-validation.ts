// The write pipeline of one served CRD version, compiled once per CRD generation (the controller builds
// it in serve() and every request reuses it), in apiextensions-apiserver's order:
//   decode:   prune unknown fields (root and embedded apiVersion/kind/metadata kept, metadata pruned to
//             ObjectMeta) → drop nulls of non-nullable fields → apply defaults (and, on create and update,
//             warn about defaults an absent parent kept from applying);
//   validate: (the store's ObjectMeta validation) → schema value validation, with ratcheting on update →
//             scale replicas and selector → embedded resources → x-kubernetes-list-type invariants.
// Reads from storage are pruned and defaulted the same way, so a default added to the schema later shows
// up on objects stored before it.

import type { KubeObject } from '../../apiserver/registry/object.js';
import type { StructuralCheck } from '../../apiserver/registry/store.js';
import { encodeForStorage } from '../../apiserver/registry/encode.js';
import type { FieldError } from '../../apiserver/request/status.js';
import { badRequest } from '../../apiserver/request/status.js';
import { absentParents, absentParentWarning, applyStructuralDefaults, dropNonNullableNulls } from '../../apiserver/schema/defaulting.js';
import { validateEmbeddedResources } from '../../apiserver/schema/embedded-meta.js';
import { validateListTypes } from '../../apiserver/schema/list-types.js';
import { pruneCustomResource } from '../../apiserver/schema/prune.js';
import { compileStructural, type SchemaNode } from '../../apiserver/schema/structural.js';
import type { JSONSchema } from '../../apiserver/schema/types.js';
import { validateValue } from '../../apiserver/schema/value-validation.js';
import { validateScaleSpec, validateScaleStatus, type ScalePaths } from './scale-validation.js';

export interface DecodeReport {
  /** Why upstream's decoder would refuse the object (malformed metadata): a 400 "cannot be handled as". */
  decodeError?: string;
  /** Pruned fields, sorted as upstream reports them. */
  unknownFields: string[];
  /** Pruned path → the declared field it probably meant. */
  suggestions: Map<string, string>;
}

export class CustomResourceValidation {
  readonly schema: SchemaNode;

  /**
   * `apiVersion`: the served group/version; reads normalize only objects stored in it (one stored in
   * another version must be converted first, and the conversion's output is normalized by its reader).
   */
  constructor(
    openAPIV3Schema: JSONSchema | undefined,
    private readonly apiVersion?: string,
    private readonly scale?: ScalePaths,
  ) {
    // Without a schema (never in apiextensions.k8s.io/v1) every field is kept, as upstream does.
    this.schema = compileStructural(openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  }

  /** What a request body goes through before admission and validation; changes `object` in place. */
  decode(object: KubeObject): DecodeReport {
    const content = object as unknown as Record<string, unknown>;
    const pruned = pruneCustomResource(content, this.schema, true);
    dropNonNullableNulls(content, this.schema);
    applyStructuralDefaults(content, this.schema);
    return { decodeError: pruned.decodeError, unknownFields: [...pruned.unknownFields].sort(), suggestions: pruned.suggestions };
  }

  /** The decode step as the generic store's structural-check hook. */
  readonly structuralCheck: StructuralCheck = (object) => {
    const report = this.decode(object);
    if (report.decodeError) {
      // transformDecodeError's wording, e.g. `Widget in version "v1" cannot be handled as a Widget: json: …`.
      const kind = typeof object.kind === 'string' ? object.kind : '';
      const version = typeof object.apiVersion === 'string' ? object.apiVersion.slice(object.apiVersion.indexOf('/') + 1) : '';
      throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${report.decodeError}`);
    }
    return { errors: [], unknownFields: report.unknownFields, suggestions: report.suggestions };
  };

  /**
   * For creates and updates of the main resource (not status writes, which controllers make): a note on the
   * defaults that did not apply because their parent object is absent — upstream applies them silently never.
   */
  absentDefaultsWarning(object: KubeObject): string | undefined {
    return absentParentWarning(absentParents(object, this.schema));
  }

  /** Strategy.Validate. */
  validate(object: KubeObject): FieldError[] {
    return [
      ...validateValue(object, this.schema),
      ...validateScaleSpec(object, this.scale),
      ...validateScaleStatus(object, this.scale),
      ...validateEmbeddedResources(object, this.schema),
      ...validateListTypes(object, this.schema),
    ];
  }

  /** Strategy.ValidateUpdate: unchanged values keep passing (ratcheting), list invariants only if the old object met them. */
  validateUpdate(object: KubeObject, old: KubeObject): FieldError[] {
    const oldContent = this.fromStorageObject(structuredClone(old)).object;
    const errors = [
      ...validateValue(object, this.schema, { old: oldContent, ratchet: true }),
      ...validateScaleSpec(object, this.scale),
      ...validateScaleStatus(object, this.scale),
      ...validateEmbeddedResources(object, this.schema),
    ];
    if (validateListTypes(oldContent, this.schema).length === 0) errors.push(...validateListTypes(object, this.schema));
    return errors;
  }

  /**
   * The status strategy's ValidateUpdate: only `status` against its own schema (paths inside the messages
   * are relative to it, as upstream's), without ratcheting (1.32 passes no ratcheting option there); list
   * invariants as on the main resource.
   */
  validateStatusUpdate(object: KubeObject, old: KubeObject): FieldError[] {
    const errors: FieldError[] = [];
    const statusSchema = this.schema.properties?.get('status');
    if (statusSchema && object.status !== undefined) errors.push(...validateValue(object.status, statusSchema, { prefix: 'status' }));
    errors.push(...validateScaleStatus(object, this.scale));
    const newListErrors = validateListTypes(object, this.schema);
    if (newListErrors.length > 0 && validateListTypes(this.fromStorageObject(structuredClone(old)).object, this.schema).length === 0) errors.push(...newListErrors);
    return errors;
  }

  /** The stored bytes as a read returns them: pruned and defaulted; the same string when nothing changed. */
  fromStorage(value: string): string {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return value;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return value;
    if (this.apiVersion && (parsed as KubeObject).apiVersion !== this.apiVersion) return value;
    const { object, changed } = this.fromStorageObject(parsed as KubeObject);
    return changed ? encodeForStorage(object) : value;
  }

  private fromStorageObject(object: KubeObject): { object: KubeObject; changed: boolean } {
    const content = object as unknown as Record<string, unknown>;
    const removed = pruneCustomResource(content, this.schema, false).removed;
    const dropped = dropNonNullableNulls(content, this.schema);
    const defaulted = applyStructuralDefaults(content, this.schema);
    return { object, changed: removed + dropped + defaulted > 0 };
  }
}
