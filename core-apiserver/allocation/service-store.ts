// The Service store: the generic store plus what upstream's service REST hooks do around it. Cluster IPs
// and node ports are taken before the object is written (after decoding and defaulting, as upstream's
// BeginCreate/BeginUpdate), given back if the write fails, released when the Service goes, and the
// Service's Endpoints go with it.

import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';
import type { ResourceDefinition } from '../../apiserver/registry/resource.js';
import type { DeleteOptions, DeleteResult, StoreHooks, WriteContext, WriteResult } from '../../apiserver/registry/store.js';
import { GenericStore } from '../../apiserver/registry/store.js';
import { StatusError } from '../../apiserver/request/status.js';
import type { Storage } from '../../apiserver/storage/interface.js';
import { applyServiceDefaults } from '../resources/service-defaults.js';
import { validateServiceStatus } from '../resources/service-validation.js';
import type { ServiceAllocators } from './allocators.js';
import { invalidService, normalizeClusterIPs, patchAllocatedValues } from './ip-families.js';
import type { AllocationTransaction } from './service-allocation.js';
import { allocateForCreate, allocateForUpdate, releaseAllocations } from './service-allocation.js';

type Mutate = (current: KubeObject | undefined) => KubeObject | Promise<KubeObject>;

export class ServiceStore extends GenericStore {
  constructor(
    resource: ResourceDefinition,
    storage: Storage,
    readonly allocators: ServiceAllocators,
    private readonly serviceHooks: StoreHooks = {},
    /** Stores of sibling resources by plural (the Endpoints of a deleted Service are deleted too). */
    private readonly siblings: (plural: string) => GenericStore | undefined = () => undefined,
  ) {
    super(resource, storage, serviceHooks);
  }

  override async create(input: KubeObject, context: WriteContext): Promise<WriteResult> {
    // A body that does not decode fails in the generic path, before anything is allocated (as upstream's decoder).
    if (!this.decodes(input, context)) return super.create(input, context);
    applyServiceDefaults(input);
    normalizeClusterIPs(input, undefined);
    const txn = await allocateForCreate(this.allocators, input, context.namespace || input.metadata?.namespace || '', context.dryRun);
    return this.completing(txn, () => super.create(input, context));
  }

  override async guaranteedUpdate(
    name: string,
    context: WriteContext,
    subresource: string,
    precondition: string | undefined,
    mutate: Mutate,
    options: { createIfMissing?: boolean; forPatch?: boolean } = {},
  ): Promise<WriteResult & { created: boolean }> {
    if (subresource === 'status') {
      return super.guaranteedUpdate(name, context, subresource, precondition, async (current) => prepareStatus(await mutate(current)), options);
    }
    if (subresource) return super.guaranteedUpdate(name, context, subresource, precondition, mutate, options);
    let txn: AllocationTransaction | undefined;
    const allocating = async (current: KubeObject | undefined): Promise<KubeObject> => {
      // A conflict retry starts over from the newer object: what the last attempt took goes back first.
      const previous = txn;
      txn = undefined;
      await previous?.revert();
      // A copy: a PUT hands the same body to every attempt, and allocation writes into it.
      const desired = structuredClone(await mutate(current));
      if (!isObject(desired) || !isObject(desired.metadata) || (options.forPatch && !this.decodes(desired, context))) return desired;
      applyServiceDefaults(desired);
      const namespace = context.namespace || desired.metadata.namespace || '';
      if (!current) {
        normalizeClusterIPs(desired, undefined);
        txn = await allocateForCreate(this.allocators, desired, namespace, context.dryRun);
      } else {
        patchAllocatedValues(desired, current);
        normalizeClusterIPs(desired, current);
        txn = await allocateForUpdate(this.allocators, desired, current, namespace, context.dryRun);
      }
      return desired;
    };
    const result = await this.completing(
      () => txn,
      () => super.guaranteedUpdate(name, context, subresource, precondition, allocating, options),
    );
    // Removing the last finalizer of a Service being deleted completes the deletion.
    const metadata = result.object.metadata;
    if (!context.dryRun && metadata.deletionTimestamp && (metadata.finalizers ?? []).length === 0) await this.afterDelete(result.object, context);
    return result;
  }

  override async delete(name: string, options: DeleteOptions, context: WriteContext): Promise<DeleteResult> {
    const result = await super.delete(name, options, context);
    if (result.deleted && !context.dryRun) await this.afterDelete(result.object, context);
    return result;
  }

  /** Runs the write; on success the transaction commits, on failure it gives back what it took. */
  private async completing<T>(txn: AllocationTransaction | (() => AllocationTransaction | undefined), write: () => Promise<T>): Promise<T> {
    const current = () => (typeof txn === 'function' ? txn() : txn);
    let result: T;
    try {
      result = await write();
    } catch (error) {
      await current()?.revert();
      throw error;
    }
    await current()?.commit();
    return result;
  }

  private async afterDelete(service: KubeObject, context: WriteContext): Promise<void> {
    await releaseAllocations(this.allocators, service);
    const endpoints = this.siblings('endpoints');
    const name = service.metadata.name;
    if (!endpoints || !name) return;
    try {
      await endpoints.delete(name, {}, { ...context, namespace: service.metadata.namespace ?? context.namespace });
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) console.error(`[core-apiserver] deleting the endpoints of service ${name}:`, error);
    }
  }

  /** Whether the body passes the schema check the generic store will run (run here on a copy). */
  private decodes(object: KubeObject, context: WriteContext): boolean {
    const check = this.serviceHooks.structuralCheck;
    if (!check) return true;
    const { errors, unknownFields } = check(structuredClone(object));
    return errors.length === 0 && !(unknownFields.length > 0 && context.fieldValidation === 'Strict');
  }
}

/** Status writes: LoadBalancerStatus is never omitted, ingress IPs default to ipMode VIP, and are validated. */
function prepareStatus(service: KubeObject): KubeObject {
  if (!isObject(service) || !isObject(service.metadata)) return service;
  if (!isObject(service.status)) service.status = {};
  if (!isObject(service.status.loadBalancer)) service.status.loadBalancer = {};
  const ingress: unknown = service.status.loadBalancer.ingress;
  for (const entry of Array.isArray(ingress) ? ingress : []) {
    if (isObject(entry) && typeof entry.ip === 'string' && entry.ip && entry.ipMode === undefined) entry.ipMode = 'VIP';
  }
  const errors = validateServiceStatus(service);
  if (errors.length > 0) throw invalidService(service, errors);
  return service;
}
