// The merge semantics of every node of a kind's schema, as upstream's kube-openapi schemaconv derives them
// for structured-merge-diff: maps are granular unless x-kubernetes-map-type is atomic; lists are atomic
// unless x-kubernetes-list-type says set or map (or, failing that, x-kubernetes-patch-strategy merge with
// a merge key); x-kubernetes-preserve-unknown-fields and schemaless nodes are "deduced" (maps granular,
// lists atomic).
//
// Built-in schemas are generated from the JavaScript client's models, which lack the Go tags
// `+structType=atomic`, `+mapType=atomic` and some `+listType`s; the tables below restore those that
// change ownership (taken from k8s.io/api and apimachinery types.go).

import type { JSONSchema } from '../../schema/types.js';
import { refTarget } from '../../schema/types.js';

export interface ListAtom {
  atomic: boolean;
  /** Associative list keys; empty for a set of scalars. */
  keys: string[];
  element: TypeNode;
}

export interface MapAtom {
  atomic: boolean;
  /** Declared fields (struct-like maps). */
  field(name: string): TypeNode | undefined;
  hasFields: boolean;
  /** Type of undeclared keys; undefined when undeclared keys are not allowed. */
  element?: TypeNode;
  /** Defaults of declared fields, used for list-map keys an element omits. */
  fieldDefault(name: string): unknown;
}

export interface Atom {
  scalar?: 'string' | 'numeric' | 'boolean' | 'untyped';
  list?: ListAtom;
  map?: MapAtom;
}

export interface TypeNode {
  atom(): Atom;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const OBJECT_META = `${META}.ObjectMeta`;

/** `+structType=atomic` definitions of the GA built-in groups. */
const ATOMIC_DEFINITIONS = new Set([
  'io.k8s.api.networking.v1.ServiceBackendPort', 'io.k8s.api.discovery.v1.EndpointPort', 'io.k8s.api.rbac.v1.Subject',
  'io.k8s.api.rbac.v1.RoleRef', 'io.k8s.api.autoscaling.v1.CrossVersionObjectReference', 'io.k8s.api.core.v1.SecretReference',
  'io.k8s.api.core.v1.FileKeySelector', 'io.k8s.api.core.v1.ObjectFieldSelector', 'io.k8s.api.core.v1.ResourceFieldSelector',
  'io.k8s.api.core.v1.ConfigMapKeySelector', 'io.k8s.api.core.v1.SecretKeySelector', 'io.k8s.api.core.v1.NodeSelector',
  'io.k8s.api.core.v1.NodeSelectorTerm', 'io.k8s.api.core.v1.TopologySelectorTerm', 'io.k8s.api.core.v1.EndpointAddress',
  'io.k8s.api.core.v1.EndpointPort', 'io.k8s.api.core.v1.ObjectReference', 'io.k8s.api.core.v1.LocalObjectReference',
  'io.k8s.api.core.v1.TypedLocalObjectReference', 'io.k8s.api.core.v1.ScopeSelector',
  'io.k8s.api.admissionregistration.v1.ParamKind', 'io.k8s.api.admissionregistration.v1.Variable',
  'io.k8s.api.admissionregistration.v1.ParamRef', 'io.k8s.api.admissionregistration.v1.MatchResources',
  'io.k8s.api.admissionregistration.v1.NamedRuleWithOperations', `${META}.OwnerReference`, `${META}.LabelSelector`,
]);

/** Field-level `+mapType` / `+structType` (`<definition>.<field>` → atomic or not). */
const FIELD_MAP_TYPES: Record<string, boolean> = {
  'io.k8s.api.core.v1.PodSpec.nodeSelector': true,
  'io.k8s.api.core.v1.ReplicationControllerSpec.selector': true,
  'io.k8s.api.core.v1.ServiceSpec.selector': true,
  'io.k8s.api.node.v1.Scheduling.nodeSelector': true,
  'io.k8s.api.core.v1.PersistentVolumeSpec.claimRef': false,
};

const set = { type: 'set' as const };
const mapBy = (...keys: string[]) => ({ type: 'map' as const, keys });

/** `+listType=set|map` the generated schemas do not carry. */
const FIELD_LIST_TYPES: Record<string, { type: 'set' | 'map'; keys?: string[] }> = {
  'io.k8s.api.admissionregistration.v1.MutatingWebhook.matchConditions': mapBy('name'),
  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration.webhooks': mapBy('name'),
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec.validationActions': set,
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec.matchConditions': mapBy('name'),
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec.variables': mapBy('name'),
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus.conditions': mapBy('type'),
  'io.k8s.api.admissionregistration.v1.ValidatingWebhook.matchConditions': mapBy('name'),
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration.webhooks': mapBy('name'),
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement.values': set,
  'io.k8s.api.batch.v1.UncountedTerminatedPods.failed': set,
  'io.k8s.api.batch.v1.UncountedTerminatedPods.succeeded': set,
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus.conditions': mapBy('type'),
  'io.k8s.api.core.v1.ComponentStatus.conditions': mapBy('type'),
  'io.k8s.api.core.v1.ContainerStatus.allocatedResourcesStatus': mapBy('name'),
  'io.k8s.api.core.v1.ContainerStatus.volumeMounts': mapBy('mountPath'),
  'io.k8s.api.core.v1.ResourceRequirements.claims': mapBy('name'),
  'io.k8s.api.core.v1.ResourceStatus.resources': mapBy('resourceID'),
  'io.k8s.api.core.v1.ServiceAccount.secrets': mapBy('name'),
  'io.k8s.api.discovery.v1.Endpoint.addresses': set,
  'io.k8s.api.flowcontrol.v1.FlowSchemaStatus.conditions': mapBy('type'),
  'io.k8s.api.flowcontrol.v1.NonResourcePolicyRule.nonResourceURLs': set,
  'io.k8s.api.flowcontrol.v1.NonResourcePolicyRule.verbs': set,
  'io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus.conditions': mapBy('type'),
  'io.k8s.api.flowcontrol.v1.ResourcePolicyRule.apiGroups': set,
  'io.k8s.api.flowcontrol.v1.ResourcePolicyRule.namespaces': set,
  'io.k8s.api.flowcontrol.v1.ResourcePolicyRule.resources': set,
  'io.k8s.api.flowcontrol.v1.ResourcePolicyRule.verbs': set,
  'io.k8s.api.networking.v1.ServiceCIDRStatus.conditions': mapBy('type'),
  'io.k8s.api.storage.v1.CSIDriverSpec.volumeLifecycleModes': set,
  'io.k8s.api.storage.v1.CSINodeSpec.drivers': mapBy('name'),
};

/** `+default` markers on list-map key fields (an element that omits the key is keyed by the default). */
const FIELD_DEFAULTS: Record<string, unknown> = {
  'io.k8s.api.core.v1.ContainerPort.protocol': 'TCP',
  'io.k8s.api.core.v1.ServicePort.protocol': 'TCP',
};

const UNTYPED_SCALAR = 'untyped' as const;

/** Upstream's __untyped_atomic_: anything, replaced whole. */
export const untypedAtomic: TypeNode = {
  atom: () => ({ scalar: UNTYPED_SCALAR, list: { atomic: true, keys: [], element: untypedAtomic }, map: atomicMap(untypedAtomic) }),
};

/** Upstream's __untyped_deduced_: maps granular (recursively deduced), lists atomic. */
export const deduced: TypeNode = {
  atom: () => ({ scalar: UNTYPED_SCALAR, list: { atomic: true, keys: [], element: untypedAtomic }, map: granularMap(deduced) }),
};

function atomicMap(element: TypeNode): MapAtom {
  return { atomic: true, field: () => undefined, hasFields: false, element, fieldDefault: () => undefined };
}

function granularMap(element: TypeNode): MapAtom {
  return { atomic: false, field: () => undefined, hasFields: false, element, fieldDefault: () => undefined };
}

function memo(build: () => Atom): TypeNode {
  let atom: Atom | undefined;
  return { atom: () => (atom ??= build()) };
}

/** Resolves schemas of one kind: definitions are shared, so named types are built once. */
export class SchemaTypes {
  private readonly named = new Map<string, TypeNode>();

  constructor(private readonly definitions: Record<string, JSONSchema>) {}

  /** The type of a whole object: a built-in definition or an inline (CRD) schema with ObjectMeta for metadata. */
  objectType(definition: string | undefined, inline: JSONSchema | undefined): TypeNode {
    if (definition && this.definitions[definition]) return this.namedType(definition);
    if (!inline) return deduced;
    const inner = this.node(inline, !!inline['x-kubernetes-preserve-unknown-fields'], undefined);
    return memo(() => {
      const atom = inner.atom();
      if (!atom.map) return atom;
      const map = atom.map;
      const metadata = this.namedType(OBJECT_META);
      const string: TypeNode = { atom: () => ({ scalar: 'string' }) };
      const top: Record<string, TypeNode> = { metadata, apiVersion: string, kind: string };
      return { ...atom, map: { ...map, hasFields: true, field: (name) => top[name] ?? map.field(name) } };
    });
  }

  namedType(definition: string): TypeNode {
    let node = this.named.get(definition);
    if (!node) {
      node = memo(() => {
        if (definition.endsWith('.Quantity') || definition.endsWith('.IntOrString')) return { scalar: UNTYPED_SCALAR };
        if (definition.endsWith('runtime.RawExtension')) return untypedAtomic.atom();
        const schema = this.definitions[definition];
        if (!schema) return deduced.atom();
        return this.atomOf(schema, !!schema['x-kubernetes-preserve-unknown-fields'], definition, ATOMIC_DEFINITIONS.has(definition) ? true : undefined);
      });
      this.named.set(definition, node);
    }
    return node;
  }

  /**
   * A property's type. `holder` is `<definition>.<field>` for built-ins (to consult the tables); a
   * property-level map type overrides the referenced definition's, as upstream's TypeRef does.
   */
  private node(schema: JSONSchema, preserveUnknown: boolean, holder: string | undefined): TypeNode {
    const ref = schema.$ref ?? (schema.allOf?.length === 1 && !schema.properties ? schema.allOf[0].$ref : undefined);
    const tableMapType = holder !== undefined ? FIELD_MAP_TYPES[holder] : undefined;
    const mapType = schema['x-kubernetes-map-type'];
    const override = tableMapType ?? (mapType === 'atomic' ? true : mapType === 'granular' ? false : undefined);
    if (ref) {
      const target = this.namedType(refTarget(ref));
      if (override === undefined) return target;
      return memo(() => {
        const atom = target.atom();
        return atom.map ? { ...atom, map: { ...atom.map, atomic: override } } : atom;
      });
    }
    return memo(() => this.atomOf(schema, preserveUnknown || !!schema['x-kubernetes-preserve-unknown-fields'], undefined, override, holder));
  }

  private atomOf(schema: JSONSchema, preserveUnknown: boolean, definition: string | undefined, mapAtomic: boolean | undefined, holder?: string): Atom {
    if (schema['x-kubernetes-int-or-string']) return { scalar: UNTYPED_SCALAR };
    const type = schema.type;
    switch (type) {
      case undefined:
        return { scalar: UNTYPED_SCALAR, list: this.listOf(schema, preserveUnknown, holder), map: this.mapOf(schema, preserveUnknown, definition, mapAtomic) };
      case 'object':
        return { map: this.mapOf(schema, preserveUnknown, definition, mapAtomic) };
      case 'array':
        return { list: this.listOf(schema, preserveUnknown, holder) };
      case 'integer':
      case 'number':
        return { scalar: 'numeric' };
      case 'boolean':
        return { scalar: 'boolean' };
      case 'string':
        return { scalar: schema.format && schema.format !== 'byte' ? UNTYPED_SCALAR : 'string' };
      default:
        return { scalar: UNTYPED_SCALAR };
    }
  }

  private mapOf(schema: JSONSchema, preserveUnknown: boolean, definition: string | undefined, mapAtomic: boolean | undefined): MapAtom {
    const properties = schema.properties ?? {};
    const fields = new Map<string, TypeNode>();
    const fieldNode = (name: string): TypeNode | undefined => {
      if (!Object.hasOwn(properties, name)) return undefined;
      let node = fields.get(name);
      if (!node) {
        node = this.node(properties[name], preserveUnknown, definition ? `${definition}.${name}` : undefined);
        fields.set(name, node);
      }
      return node;
    };
    let element: TypeNode | undefined;
    const additional = schema.additionalProperties;
    if (additional === undefined) element = preserveUnknown || Object.keys(properties).length === 0 ? deduced : undefined;
    else if (additional === true) element = deduced;
    else if (additional !== false) element = this.node(additional, preserveUnknown, undefined);
    const atomic = mapAtomic ?? schema['x-kubernetes-map-type'] === 'atomic';
    return {
      atomic,
      field: fieldNode,
      hasFields: Object.keys(properties).length > 0,
      element,
      fieldDefault: (name) => {
        if (definition && Object.hasOwn(FIELD_DEFAULTS, `${definition}.${name}`)) return FIELD_DEFAULTS[`${definition}.${name}`];
        return Object.hasOwn(properties, name) ? properties[name].default : undefined;
      },
    };
  }

  private listOf(schema: JSONSchema, preserveUnknown: boolean, holder: string | undefined): ListAtom {
    const table = holder !== undefined ? FIELD_LIST_TYPES[holder] : undefined;
    const listType = table?.type ?? schema['x-kubernetes-list-type'];
    let atomic = true;
    let keys: string[] = [];
    if (listType === 'set') atomic = false;
    else if (listType === 'map') {
      atomic = false;
      keys = table?.keys ?? schema['x-kubernetes-list-map-keys'] ?? [];
    } else if (listType === undefined) {
      const strategy = schema['x-kubernetes-patch-strategy'];
      if (strategy === 'merge' || strategy === 'merge,retainKeys') {
        atomic = false;
        const mergeKey = schema['x-kubernetes-patch-merge-key'];
        if (mergeKey) keys = [mergeKey];
      }
    }
    const element = schema.items ? this.node(schema.items, preserveUnknown, undefined) : untypedAtomic;
    return { atomic, keys, element };
  }
}
