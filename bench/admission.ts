// Admission cost per create (`node dist/bench/admission.js`): ConfigMap and Pod creates on core's real
// stores (in memory, no HTTP), with an empty chain against the built-in plugins — the goal is that
// admission without webhooks costs at most 5 % of a create. With a ResourceQuota in the namespace every
// create also pays for charging it (a compare-and-swap of the quota's status), which upstream pays too.

import { pathToFileURL } from 'node:url';
import { builtinSchemas } from '../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../apiserver/schema/structural-check.js';
import { MemoryStorage } from '../apiserver/storage/memory.js';
import { GenericStore, type WriteContext } from '../apiserver/registry/store.js';
import { AdmissionChain } from '../apiserver/admission/interface.js';
import { coreResources } from '../core-apiserver/resources/index.js';
import { registerBuiltinAdmission } from '../core-apiserver/admission/index.js';

const COUNT = Number(process.env.ADMISSION_BENCH_COUNT ?? 3000);

const context: WriteContext = { user: { username: 'admin', groups: ['system:masters'] }, namespace: 'bench', warnings: [], dryRun: false, fieldManager: 'bench', fieldValidation: 'Strict' };

async function setup(plugins: 'none' | 'builtin', quota: boolean): Promise<Map<string, GenericStore>> {
  const definitions = builtinSchemas();
  const storage = new MemoryStorage();
  const chain = new AdmissionChain();
  const stores = new Map<string, GenericStore>();
  for (const definition of coreResources) {
    const schema = definition.schemaName ? definitions[definition.schemaName] : definition.schema;
    stores.set(definition.plural, new GenericStore(definition, storage, { structuralCheck: structuralCheckFor(schema, definitions), admission: chain }));
  }
  const system = { ...context, namespace: '' };
  await stores.get('namespaces')!.create({ metadata: { name: 'bench' } }, system);
  await stores.get('serviceaccounts')!.create({ metadata: { name: 'default' } }, context);
  await Promise.all([...stores.values()].map((store) => store.cache.start()));
  if (plugins === 'builtin') {
    const admission = registerBuiltinAdmission(chain, (plural) => stores.get(plural)!, () => [...stores.values()]);
    admission.registerResourceQuota();
    if (quota) {
      await admission.quotaController.start();
      await stores.get('resourcequotas')!.create({ metadata: { name: 'q' }, spec: { hard: { 'count/configmaps': '1000000', pods: '1000000' } } }, context);
    }
  }
  return stores;
}

const ROUNDS = 7;
const BATCH = Math.max(100, Math.floor(COUNT / ROUNDS));

/** µs per create for one batch; names keep growing so every create is a real insert. */
async function batchMicros(stores: Map<string, GenericStore>, plural: string, body: (index: number) => Record<string, unknown>, offset: number): Promise<number> {
  const store = stores.get(plural)!;
  const started = process.hrtime.bigint();
  for (let index = 0; index < BATCH; index++) await store.create(body(offset + index) as never, { ...context, warnings: [] });
  return Number(process.hrtime.bigint() - started) / 1000 / BATCH;
}

const configMap = (index: number) => ({ metadata: { name: `cm${index}` }, data: { key: 'value' } });
const pod = (index: number) => ({ metadata: { name: `pod${index}` }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } });

export interface AdmissionBenchResult {
  /** µs per create, median round, by `<Kind> create, <variant>`. */
  rows: [string, number][];
  /** Extra time per create the built-in plugins cost, as a fraction of a create without them. */
  overhead: { configMap: number; pod: number };
  /** The same with a ResourceQuota to charge on every create. */
  withQuota: { configMap: number; pod: number };
}

/** Measures creates with no admission plugins against the built-in ones (and a quota to charge). */
export async function benchAdmission(): Promise<AdmissionBenchResult> {
  const variants = [
    { label: 'no plugins', stores: await setup('none', false) },
    { label: 'built-in plugins', stores: await setup('builtin', false) },
    { label: 'built-in plugins + a quota', stores: await setup('builtin', true) },
  ];
  // Rounds alternate between the variants so that load from elsewhere and heap growth hit each alike; the
  // median round counts.
  const samples = new Map<string, number[]>();
  for (let round = -1; round < ROUNDS; round++) {
    for (const variant of variants) {
      for (const [kind, plural, body] of [['ConfigMap', 'configmaps', configMap], ['Pod', 'pods', pod]] as const) {
        const micros = await batchMicros(variant.stores, plural, body, (round + 1) * BATCH);
        if (round < 0) continue; // warm-up
        const key = `${kind} create, ${variant.label}`;
        samples.set(key, [...(samples.get(key) ?? []), micros]);
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const rows = [...samples].map(([name, values]) => [name, median(values)] as [string, number]);
  const overhead = (kind: string, variant: string) => {
    const base = rows.find(([name]) => name === `${kind} create, no plugins`)![1];
    const other = rows.find(([name]) => name === `${kind} create, ${variant}`)![1];
    return (other - base) / base;
  };
  for (const variant of variants) for (const store of variant.stores.values()) store.cache.stop();
  return {
    rows,
    overhead: { configMap: overhead('ConfigMap', 'built-in plugins'), pod: overhead('Pod', 'built-in plugins') },
    withQuota: { configMap: overhead('ConfigMap', 'built-in plugins + a quota'), pod: overhead('Pod', 'built-in plugins + a quota') },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await benchAdmission();
  const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
  for (const [name, micros] of result.rows) console.log(`${name.padEnd(44)} ${micros.toFixed(1).padStart(8)} µs/create`);
  console.log(`admission overhead (built-in plugins): ConfigMap ${percent(result.overhead.configMap)}, Pod ${percent(result.overhead.pod)} (goal ≤ 5 %)`);
  console.log(`with a quota to charge: ConfigMap ${percent(result.withQuota.configMap)}, Pod ${percent(result.withQuota.pod)}`);
  process.exit(0);
}
