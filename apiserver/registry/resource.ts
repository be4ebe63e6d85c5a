// A resource is a declaration: what it is called, where it lives, how it is validated and printed.
// The generic store, the handlers, discovery and OpenAPI do the rest from this one object.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FieldError } from '../request/status.js';
import type { JSONSchema } from '../schema/types.js';
import type { KubeObject, UserInfo } from './object.js';
import type { GarbageCollectionPolicy } from './delete-propagation.js';
import type { GenericStore, WriteContext } from './store.js';
import type { VersionConverter } from './conversion.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** How metadata.name is validated for a kind (upstream uses different rules per kind). */
export type NameValidation = 'dns1123-subdomain' | 'dns1123-label' | 'path-segment' | ((name: string) => string[]);

export interface StrategyContext {
  user: UserInfo;
  /** Warnings to return to the client as Warning headers. */
  warnings: string[];
  dryRun: boolean;
}

export interface Strategy {
  /** Defaulting and clearing of server-owned fields on create (status is cleared generically when there is a status subresource). */
  prepareForCreate?(object: KubeObject, context: StrategyContext): void;
  /** Same on update, with the current object. */
  prepareForUpdate?(object: KubeObject, old: KubeObject, context: StrategyContext): void;
  validate?(object: KubeObject, context: StrategyContext): FieldError[];
  validateUpdate?(object: KubeObject, old: KubeObject, context: StrategyContext): FieldError[];
  /** Validation of a write through the status subresource (upstream's status strategy). */
  validateStatusUpdate?(object: KubeObject, old: KubeObject, context: StrategyContext): FieldError[];
  /** Normalization after validation (e.g. stringData folded into data). */
  canonicalize?(object: KubeObject): void;
  /** Create-on-update (PUT of a missing object creates it). */
  allowCreateOnUpdate?: boolean;
  /** Called when an object is about to be deleted with no finalizers left; may add finalizers (e.g. namespaces). */
  beforeDelete?(object: KubeObject, context: StrategyContext): 'delete' | 'keep';
  /** What a delete without propagation options does to dependents (upstream's DefaultGarbageCollectionPolicy; Background when absent). */
  defaultGarbageCollectionPolicy?: GarbageCollectionPolicy;
  /** Warning for a delete that names no propagation policy and so gets the kind's default (upstream's Jobs). */
  defaultPropagationWarning?: string;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description?: string;
  /** Wide columns (priority 1) are hidden by kubectl unless -o wide. */
  priority?: number;
  /** The cell. Dates are rendered by the Table converter (Age strings). */
  value(object: KubeObject): unknown;
}

export interface SubresourceDefinition {
  /** Kind of the subresource's object (defaults to the parent kind). */
  kind?: string;
  group?: string;
  version?: string;
  verbs: Verb[];
  /**
   * For subresources the generic store serves (status, finalize): the dotted paths a write through this
   * subresource may change; everything else keeps its stored value. The main resource, in turn, cannot
   * change the paths of a `status` subresource.
   */
  updates?: string[];
  /**
   * A subresource that is a different view of the object (scale → autoscaling/v1 Scale): reads return the
   * view, writes change the object through `applyView` and the main resource's update path.
   */
  view?: {
    toView(object: KubeObject): KubeObject;
    applyView(object: KubeObject, view: KubeObject): KubeObject;
  };
  /**
   * A subresource that acts when an object is POSTed to it (upstream's named creaters: pods/binding,
   * pods/eviction). Answers the response's status code and body.
   */
  create?(action: SubresourceAction): Promise<{ code: number; body: unknown }>;
  /**
   * A subresource the server connects somewhere else (upstream's rest.Connecter: pods/exec, pods/log,
   * services/proxy): requests with one of `methods` — plain or protocol upgrades — are handed to `handle`.
   */
  connect?: ConnectSubresource;
  /** Defaulting of a write through this subresource (an `updates` subresource such as pods/ephemeralcontainers). */
  prepareForUpdate?(object: KubeObject, old: KubeObject, context: StrategyContext): void;
  /** Validation of a write through this subresource. */
  validateUpdate?(object: KubeObject, old: KubeObject, context: StrategyContext): FieldError[];
}

export interface ConnectSubresource {
  /** HTTP methods served (upstream's ConnectMethods). */
  methods: string[];
  /** Answers the request; throws a StatusError for anything it refuses before answering. */
  handle(request: ConnectRequest): Promise<void>;
}

/** One request to a connect subresource, authenticated and authorized. */
export interface ConnectRequest {
  req: IncomingMessage;
  /** The response of a plain request. */
  res?: ServerResponse;
  /** An upgrade request: the client's socket and the bytes that came after its headers. */
  upgrade?: { socket: Duplex; head: Buffer };
  /** The parent resource's store. */
  store: GenericStore;
  namespace: string;
  name: string;
  /** The path after the subresource (`/a/b` of …/proxy/a/b, with a trailing slash if the request had one); '' when none. */
  subpath: string;
  query: URLSearchParams;
  user: UserInfo;
  /** Another resource served by the same server (nodes for a pod's kubelet, endpoints for a service). */
  resource(group: string, version: string, plural: string): GenericStore | undefined;
}

/** What a POST to an action subresource gets to work with. */
export interface SubresourceAction {
  /** The parent resource's store. */
  store: GenericStore;
  namespace: string;
  name: string;
  body: KubeObject;
  context: WriteContext;
  /** Another resource served by the same server (e.g. PodDisruptionBudgets for an eviction). */
  resource(group: string, version: string, plural: string): GenericStore | undefined;
}

export interface ResourceDefinition {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: Verb[];
  /** OpenAPI definition name of the kind's schema (e.g. io.k8s.api.core.v1.ConfigMap). */
  schemaName?: string;
  /** Inline schema when the kind is not among the shared definitions (CRDs, aggregated APIs). */
  schema?: JSONSchema;
  strategy: Strategy;
  nameValidation: NameValidation;
  printerColumns?: PrinterColumn[];
  /** Subresources served by the generic store: status (the spec/status split). */
  subresources: Record<string, SubresourceDefinition>;
  /** metadata.generation is maintained (incremented on changes outside metadata and status). */
  generation: boolean;
  /** Keep the status a create sends even with a status subresource (upstream's Nodes: kubelets register that way). */
  keepStatusOnCreate?: boolean;
  /** Extra field selectors beyond metadata.name/metadata.namespace. */
  selectableFields: Record<string, (object: KubeObject) => string | undefined>;
  /**
   * An immediate delete answers with the deleted object (upstream's Store.ReturnDeletedObject: pods, services,
   * storage classes, …); otherwise with a Success Status naming it. A delete that leaves the object in place
   * (finalizers, graceful deletion) always answers with the object.
   */
  returnDeletedObject?: boolean;

  /** Storage key prefix: /registry/<group>/<plural> by default (core group: /registry/<plural>). */
  storagePrefix: string;
  /** A deprecated version: every request to it gets this Warning (upstream's deprecation filter). */
  deprecationWarning?: string;
  /** Hash shown in discovery (stable per storage GVK); '' for kinds that are never stored (no hash, as upstream). */
  storageVersionHash?: string;
  /**
   * A built-in kind served in several versions from one storage prefix (autoscaling/v1 and v2 HPAs), or in
   * another group's shape (events.k8s.io/v1 Events are stored as core/v1 Events, the converter's
   * storageApiVersion): objects are stored in the converter's storage version and converted on the way in
   * and out (see conversion.ts).
   */
  converter?: VersionConverter;
  /**
   * The error for a GET of a missing object, when it is not the plain `<resource> "name" not found` (an
   * aggregated API whose objects mirror others may say which one is missing, as metrics-server does).
   */
  notFound?: (namespace: string, name: string) => Error;
}

/** The status subresource as upstream serves it: get/patch/update, writes change only `.status`. */
export const statusSubresource: SubresourceDefinition = { verbs: ['get', 'patch', 'update'], updates: ['status'] };

export type ResourceDeclaration = Partial<Omit<ResourceDefinition, 'group' | 'version' | 'kind' | 'plural' | 'namespaced'>> &
  Pick<ResourceDefinition, 'group' | 'version' | 'kind' | 'plural' | 'namespaced'>;

export function defineResource(declaration: ResourceDeclaration): ResourceDefinition {
  const group = declaration.group;
  return {
    ...declaration,
    singular: declaration.singular ?? declaration.kind.toLowerCase(),
    listKind: declaration.listKind ?? `${declaration.kind}List`,
    shortNames: declaration.shortNames ?? [],
    categories: declaration.categories ?? [],
    verbs: declaration.verbs ?? ALL_VERBS,
    strategy: declaration.strategy ?? {},
    nameValidation: declaration.nameValidation ?? 'dns1123-subdomain',
    subresources: declaration.subresources ?? {},
    generation: declaration.generation ?? false,
    selectableFields: declaration.selectableFields ?? {},
    storagePrefix: declaration.storagePrefix ?? (group ? `/registry/${group}/${declaration.plural}/` : `/registry/${declaration.plural}/`),
  };
}

export function apiVersionOf(resource: Pick<ResourceDefinition, 'group' | 'version'>): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

export function groupResource(resource: Pick<ResourceDefinition, 'group' | 'plural'>): { group: string; resource: string } {
  return { group: resource.group, resource: resource.plural };
}

/** Storage key of an object. */
export function storageKey(resource: ResourceDefinition, namespace: string, name: string): string {
  return resource.namespaced ? `${resource.storagePrefix}${namespace}/${name}` : `${resource.storagePrefix}${name}`;
}

/** Key prefix of a collection (all namespaces when namespace is empty). */
export function collectionPrefix(resource: ResourceDefinition, namespace: string): string {
  return resource.namespaced && namespace ? `${resource.storagePrefix}${namespace}/` : resource.storagePrefix;
}
