// API Priority and Fairness cost per request, in this process: classification (a user who is not exempt
// walks the bootstrap FlowSchemas down to global-default), the two response headers, estimating the
// request's seats, taking and releasing them — against the plain in-flight limiter it replaces. A LIST
// (priced from the object count) is measured too.

import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { FlowControl } from '../apiserver/flowcontrol/controller.js';
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS, SUGGESTED_FLOW_SCHEMAS, SUGGESTED_PRIORITY_LEVELS } from '../apiserver/flowcontrol/bootstrap.js';
import { InFlightLimiter } from '../apiserver/filters/in-flight.js';
import { parseRequestInfo } from '../apiserver/request/request-info.js';

export interface FlowControlBenchResult {
  apfMicroseconds: number;
  apfListMicroseconds: number;
  inFlightMicroseconds: number;
}

function perCall(iterations: number, call: () => void): number {
  for (let index = 0; index < 10_000; index++) call(); // warm up
  const started = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) call();
  return Number(process.hrtime.bigint() - started) / 1e3 / iterations;
}

export function benchFlowControl(iterations = 200_000): FlowControlBenchResult {
  const control = new FlowControl({ serverConcurrencyLimit: 600, maxQueueWaitMs: 15_000, objectCount: (resource) => (resource === 'configmaps' ? 650 : undefined) });
  const uid = <T extends { metadata: { name: string } }>(object: T): T => ({ ...object, metadata: { ...object.metadata, uid: `00000000-0000-0000-0000-${object.metadata.name.padStart(12, '0').slice(-12)}` } });
  control.configure([...MANDATORY_FLOW_SCHEMAS, ...SUGGESTED_FLOW_SCHEMAS].map(uid), [...MANDATORY_PRIORITY_LEVELS, ...SUGGESTED_PRIORITY_LEVELS].map(uid));
  const user = { username: 'alice', groups: ['developers', 'system:authenticated'] };
  const info = parseRequestInfo('GET', '/api/v1/namespaces/default/configmaps/bench', new URLSearchParams());
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  const limiter = new InFlightLimiter(400, 200);
  const apfMicroseconds = perCall(iterations, () => (control.admit(user, info, res) as () => void)());
  const listQuery = new URLSearchParams('limit=500');
  const list = parseRequestInfo('GET', '/api/v1/namespaces/default/configmaps', listQuery);
  const apfListMicroseconds = perCall(iterations, () => (control.admit(user, list, res, listQuery) as () => void)());
  control.stop();
  const inFlightMicroseconds = perCall(iterations, () => limiter.acquire(false)());
  return { apfMicroseconds, apfListMicroseconds, inFlightMicroseconds };
}

if (process.argv[1]?.endsWith('bench/flowcontrol.js')) {
  const result = benchFlowControl();
  console.log(`APF admit+release ${result.apfMicroseconds.toFixed(2)} µs (a 7-seat LIST ${result.apfListMicroseconds.toFixed(2)} µs), in-flight acquire+release ${result.inFlightMicroseconds.toFixed(3)} µs`);
}
