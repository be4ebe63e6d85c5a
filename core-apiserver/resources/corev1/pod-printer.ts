// The cells of upstream's pod printer: READY counts ready containers (restartable init containers
// included), STATUS is the most telling reason found in the container statuses, RESTARTS carries the age
// of the last restart.

import type { KubeObject } from '../../../apiserver/registry/object.js';
import { isObject } from '../../../apiserver/registry/object.js';
import { since, SinceCell } from '../../../apiserver/registry/table.js';
import type { Json } from './pod-defaults.js';
import { objectsOf } from './pod-defaults.js';

interface PodCells {
  ready: string;
  status: string;
  restarts: string;
  /** The RESTARTS cell: its "(5m ago)" part reads the clock, so it is rendered at response time. */
  restartsCell: unknown;
}

function terminatedOf(state: unknown): Json | undefined {
  return isObject(state) && isObject(state.terminated) ? state.terminated : undefined;
}

function waitingOf(state: unknown): Json | undefined {
  return isObject(state) && isObject(state.waiting) ? state.waiting : undefined;
}

function finishedAt(status: Json): number {
  const terminated = terminatedOf(status.lastState);
  const at = terminated && typeof terminated.finishedAt === 'string' ? Date.parse(terminated.finishedAt) : NaN;
  return Number.isNaN(at) ? 0 : at;
}

function exitReason(terminated: Json, prefix: string): string {
  if (typeof terminated.reason === 'string' && terminated.reason) return `${prefix}${terminated.reason}`;
  if (typeof terminated.signal === 'number' && terminated.signal !== 0) return `${prefix}Signal:${terminated.signal}`;
  return `${prefix}ExitCode:${typeof terminated.exitCode === 'number' ? terminated.exitCode : 0}`;
}

function hasCondition(status: Json, type: string): boolean {
  return objectsOf(status.conditions).some((condition) => condition.type === type && condition.status === 'True');
}

export function podCells(pod: KubeObject): PodCells {
  const spec: Json = isObject(pod.spec) ? pod.spec : {};
  const status: Json = isObject(pod.status) ? pod.status : {};
  const initSpecs = new Map(objectsOf(spec.initContainers).map((container) => [container.name, container]));
  const restartable = (name: unknown): boolean => initSpecs.get(name)?.restartPolicy === 'Always';
  const total = objectsOf(spec.containers).length + [...initSpecs.values()].filter((container) => container.restartPolicy === 'Always').length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  const phase = typeof status.phase === 'string' ? status.phase : '';
  let reason = typeof status.reason === 'string' && status.reason ? status.reason : phase;
  if (objectsOf(status.conditions).some((condition) => condition.type === 'PodScheduled' && condition.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  let initializing = false;
  const initStatuses = objectsOf(status.initContainerStatuses);
  for (let index = 0; index < initStatuses.length; index++) {
    const container = initStatuses[index];
    const count = typeof container.restartCount === 'number' ? container.restartCount : 0;
    restarts += count;
    lastRestart = Math.max(lastRestart, finishedAt(container));
    if (restartable(container.name)) {
      sidecarRestarts += count;
      lastSidecarRestart = Math.max(lastSidecarRestart, finishedAt(container));
    }
    const terminated = terminatedOf(container.state);
    const waiting = waitingOf(container.state);
    if (terminated && terminated.exitCode === 0) continue;
    if (restartable(container.name) && container.started === true) {
      if (container.ready === true) ready++;
      continue;
    }
    if (terminated) reason = exitReason(terminated, 'Init:');
    else if (waiting && typeof waiting.reason === 'string' && waiting.reason && waiting.reason !== 'PodInitializing') reason = `Init:${waiting.reason}`;
    else reason = `Init:${index}/${initSpecs.size}`;
    initializing = true;
    break;
  }

  if (!initializing || hasCondition(status, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = objectsOf(status.containerStatuses);
    for (let index = statuses.length - 1; index >= 0; index--) {
      const container = statuses[index];
      restarts += typeof container.restartCount === 'number' ? container.restartCount : 0;
      lastRestart = Math.max(lastRestart, finishedAt(container));
      const waiting = waitingOf(container.state);
      const terminated = terminatedOf(container.state);
      if (waiting && typeof waiting.reason === 'string' && waiting.reason) reason = waiting.reason;
      else if (terminated) reason = exitReason(terminated, '');
      else if (container.ready === true && isObject(container.state) && isObject(container.state.running)) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = hasCondition(status, 'Ready') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsCell = restarts !== 0 && lastRestart > 0 ? since(new Date(lastRestart).toISOString(), (age) => `${restarts} (${age} ago)`) : String(restarts);
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsCell instanceof SinceCell ? String(restartsCell.render()) : restartsCell, restartsCell };
}

export function podIP(pod: KubeObject): string {
  const status: Json = isObject(pod.status) ? pod.status : {};
  const ip = objectsOf(status.podIPs)[0]?.ip;
  return typeof ip === 'string' && ip ? ip : '<none>';
}

export function readinessGates(pod: KubeObject): string {
  const spec: Json = isObject(pod.spec) ? pod.spec : {};
  const gates = objectsOf(spec.readinessGates);
  if (gates.length === 0) return '<none>';
  const conditions = objectsOf(isObject(pod.status) ? pod.status.conditions : undefined);
  const met = gates.filter((gate) => conditions.find((condition) => condition.type === gate.conditionType)?.status === 'True').length;
  return `${met}/${gates.length}`;
}
