// API Priority and Fairness configuration upkeep in core-apiserver (upstream's apf configuration ensurer
// and the config consumer's status writes):
// - the mandatory objects (exempt, catch-all) always exist with their bootstrap spec: deleted, they come
//   back; edited, they are put back;
// - the suggested objects are created when missing, and put back to their bootstrap spec only while their
//   `apf.kubernetes.io/autoupdate-spec` annotation is "true" (set to "false" to keep your own changes;
//   without the annotation, only objects never changed since creation, generation 1, are updated);
// - every FlowSchema carries a `Dangling` condition saying whether its priority level exists.

import type { GenericStore, WriteContext } from '../apiserver/registry/store.js';
import type { KubeObject } from '../apiserver/registry/object.js';
import { StatusError } from '../apiserver/request/status.js';
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS, SUGGESTED_FLOW_SCHEMAS, SUGGESTED_PRIORITY_LEVELS } from '../apiserver/flowcontrol/bootstrap.js';
import type { FlowSchema, PriorityLevelConfiguration } from '../apiserver/flowcontrol/types.js';
import { AUTOUPDATE_ANNOTATION } from '../apiserver/flowcontrol/types.js';

const ENSURER: WriteContext = {
  user: { username: 'system:apiserver', groups: ['system:masters'] },
  namespace: '',
  warnings: [],
  dryRun: false,
  fieldManager: 'api-priority-and-fairness-config-producer-v1',
  fieldValidation: 'Ignore',
};
const CONSUMER: WriteContext = { ...ENSURER, fieldManager: 'api-priority-and-fairness-config-consumer-v1' };

type BootstrapObject = FlowSchema | PriorityLevelConfiguration;

/** Every field the bootstrap object sets has the same value in the stored one (defaults may add more). */
function covers(stored: unknown, wanted: unknown): boolean {
  if (Array.isArray(wanted)) return Array.isArray(stored) && stored.length === wanted.length && wanted.every((item, index) => covers(stored[index], item));
  if (wanted !== null && typeof wanted === 'object') {
    if (stored === null || typeof stored !== 'object') return false;
    return Object.entries(wanted).every(([key, value]) => covers((stored as Record<string, unknown>)[key], value));
  }
  return stored === wanted;
}

function shouldUpdateSpec(stored: KubeObject, mandatory: boolean): boolean {
  if (mandatory) return true;
  const annotation = stored.metadata.annotations?.[AUTOUPDATE_ANNOTATION];
  if (annotation === 'true' || annotation === 'false') return annotation === 'true';
  return stored.metadata.generation === 1;
}

function danglingCondition(flowSchema: FlowSchema, levelExists: boolean): { type: string; status: string; reason: string; message: string } {
  const name = flowSchema.spec.priorityLevelConfiguration.name;
  return levelExists
    ? { type: 'Dangling', status: 'False', reason: 'Found', message: `This FlowSchema references the PriorityLevelConfiguration object named "${name}" and it exists` }
    : { type: 'Dangling', status: 'True', reason: 'NotFound', message: `This FlowSchema references the PriorityLevelConfiguration object named "${name}" but there is no such object` };
}

export class FlowControlBootstrap {
  private readonly watches: { stop(): void }[] = [];
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly flowSchemas: GenericStore,
    private readonly priorityLevels: GenericStore,
  ) {}

  async start(): Promise<void> {
    await Promise.all([this.flowSchemas.cache.start(), this.priorityLevels.cache.start()]);
    await this.reconcile();
    for (const store of [this.flowSchemas, this.priorityLevels]) {
      this.watches.push(store.cache.watch({ fromRevision: store.cache.revision, prefix: store.resource.storagePrefix, filter: () => true, onEvent: () => this.trigger() }));
    }
  }

  stop(): void {
    for (const watch of this.watches) watch.stop();
  }

  private trigger(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.reconcile();
        } catch (error) {
          console.error(`[flowcontrol] reconciling the bootstrap configuration: ${(error as Error).message}`);
        }
      } while (this.again);
      this.running = undefined;
    })();
  }

  private stored<T>(store: GenericStore, name: string): T | undefined {
    const cached = store.cache.get(store.key('', name));
    return cached ? (JSON.parse(cached.bytes) as T) : undefined;
  }

  private async ensure(store: GenericStore, wanted: BootstrapObject, mandatory: boolean): Promise<void> {
    const stored = this.stored<KubeObject>(store, wanted.metadata.name);
    const object = { ...wanted, metadata: { name: wanted.metadata.name, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } } };
    if (!stored) {
      try {
        await store.create(structuredClone(object) as unknown as KubeObject, ENSURER);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 409)) throw error;
      }
      return;
    }
    if (!shouldUpdateSpec(stored, mandatory)) return;
    if (covers(stored.spec, wanted.spec) && stored.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'true') return;
    await store.guaranteedUpdate(wanted.metadata.name, ENSURER, '', undefined, (current) => {
      if (!current) throw new StatusError(404, 'NotFound', `${wanted.metadata.name} is gone`);
      return { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [AUTOUPDATE_ANNOTATION]: 'true' } }, spec: structuredClone(wanted.spec) } as KubeObject;
    });
  }

  private async reconcile(): Promise<void> {
    for (const level of MANDATORY_PRIORITY_LEVELS) await this.ensure(this.priorityLevels, level, true);
    for (const level of SUGGESTED_PRIORITY_LEVELS) await this.ensure(this.priorityLevels, level, false);
    for (const schema of MANDATORY_FLOW_SCHEMAS) await this.ensure(this.flowSchemas, schema, true);
    for (const schema of SUGGESTED_FLOW_SCHEMAS) await this.ensure(this.flowSchemas, schema, false);
    await this.updateDanglingConditions();
  }

  private async updateDanglingConditions(): Promise<void> {
    for (const cached of this.flowSchemas.cache.list(this.flowSchemas.resource.storagePrefix)) {
      const flowSchema = JSON.parse(cached.bytes) as FlowSchema;
      const wanted = danglingCondition(flowSchema, this.stored(this.priorityLevels, flowSchema.spec.priorityLevelConfiguration.name) !== undefined);
      const current = flowSchema.status?.conditions?.find((condition) => condition.type === 'Dangling');
      if (current && current.status === wanted.status && current.reason === wanted.reason && current.message === wanted.message) continue;
      try {
        await this.flowSchemas.guaranteedUpdate(flowSchema.metadata.name, CONSUMER, 'status', undefined, (object) => {
          if (!object) throw new StatusError(404, 'NotFound', `${flowSchema.metadata.name} is gone`);
          const conditions = ((object.status as FlowSchema['status'])?.conditions ?? []).filter((condition) => condition.type !== 'Dangling');
          const lastTransitionTime = current?.status === wanted.status && current.lastTransitionTime ? current.lastTransitionTime : new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
          return { ...object, status: { ...(object.status as object), conditions: [...conditions, { ...wanted, lastTransitionTime }] } } as KubeObject;
        });
      } catch (error) {
        // Deleted meanwhile: nothing to report on.
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
  }
}
