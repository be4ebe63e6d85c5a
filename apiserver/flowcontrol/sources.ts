// Where a server's API Priority and Fairness configuration comes from: core-apiserver reads its own watch
// caches; the aggregator and other servers mirror core's objects with informers. Both coalesce bursts of
// changes into one reconfiguration.

import type { GenericStore } from '../registry/store.js';
import type { InformerSource } from '../client/informer.js';
import { Informer } from '../client/informer.js';
import type { FlowControlSource } from './controller.js';
import type { FlowSchema, PriorityLevelConfiguration } from './types.js';

type Apply = (flowSchemas: FlowSchema[], priorityLevels: PriorityLevelConfiguration[]) => void;

function coalesced(read: () => [FlowSchema[], PriorityLevelConfiguration[]], apply: Apply): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      apply(...read());
    });
  };
}

export function watchCacheSource(flowSchemas: GenericStore, priorityLevels: GenericStore): FlowControlSource {
  const watches: { stop(): void }[] = [];
  const objects = <T>(store: GenericStore): T[] => store.cache.list(store.resource.storagePrefix).map((cached) => JSON.parse(cached.bytes) as T);
  return {
    start(apply) {
      const changed = coalesced(() => [objects<FlowSchema>(flowSchemas), objects<PriorityLevelConfiguration>(priorityLevels)], apply);
      void Promise.all([flowSchemas.cache.start(), priorityLevels.cache.start()]).then(() => {
        for (const store of [flowSchemas, priorityLevels]) watches.push(store.cache.watch({ fromRevision: 0, prefix: store.resource.storagePrefix, filter: () => true, onEvent: changed }));
        changed();
      });
    },
    stop() {
      for (const watch of watches) watch.stop();
    },
  };
}

export function informerSource(server: () => InformerSource | undefined): FlowControlSource {
  let informers: [Informer, Informer] | undefined;
  return {
    start(apply) {
      const changed = coalesced(() => [informers![0].list() as unknown as FlowSchema[], informers![1].list() as unknown as PriorityLevelConfiguration[]], apply);
      informers = [
        new Informer(server, '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas', changed),
        new Informer(server, '/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations', changed),
      ];
      for (const informer of informers) informer.start();
    },
    stop() {
      for (const informer of informers ?? []) informer.stop();
    },
  };
}
