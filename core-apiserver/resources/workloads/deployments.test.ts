import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { columnsOf, tableRow } from '../../../apiserver/registry/table.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { ApiServer } from '../../../apiserver/server/api-server.js';
import { request, TABLE_ACCEPT } from '../../../apiserver/server/test-server.js';
import { MemoryStorage } from '../../../apiserver/storage/memory.js';
import { builtinSchemas } from '../../../apiserver/schema/builtin.js';
import { structuralCheckFor } from '../../../apiserver/schema/structural-check.js';
import { schemaPatchMeta } from '../../../apiserver/schema/patch-meta.js';
import { deployments, replicaSets } from './deployments.js';
import { workloadPriorities, workloadResources } from './index.js';

const USER: StrategyContext = { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };

function deployment(spec: Record<string, unknown>, name = 'web'): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' }, spec };
}

function webSpec(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } },
    ...extra,
  };
}

function problems(definition: ResourceDefinition, object: KubeObject): string[] {
  definition.strategy.prepareForCreate!(object, USER);
  return definition.strategy.validate!(object, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

describe('Deployment defaults', () => {
  it('fills replicas, the rolling update strategy, history, deadline and the pod template as upstream', () => {
    const object = deployment(webSpec());
    assert.deepEqual(problems(deployments, object), []);
    assert.deepEqual(object.spec, {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template: {
        metadata: { labels: { app: 'web' }, creationTimestamp: null },
        spec: {
          containers: [{ name: 'nginx', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} }],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          dnsPolicy: 'ClusterFirst',
          securityContext: {},
          schedulerName: 'default-scheduler',
        },
      },
    });
    assert.deepEqual(object.status, {});
  });

  it('pulls untagged and :latest images Always, digests and other tags IfNotPresent', () => {
    const object = deployment(webSpec());
    object.spec.template.spec.containers = [
      { name: 'a', image: 'nginx' },
      { name: 'b', image: 'registry:5000/nginx:latest' },
      { name: 'c', image: 'nginx@sha256:abc' },
      { name: 'd', image: 'registry:5000/nginx', imagePullPolicy: 'Never' },
    ];
    deployments.strategy.prepareForCreate!(object, USER);
    assert.deepEqual(
      object.spec.template.spec.containers.map((c: { imagePullPolicy: string }) => c.imagePullPolicy),
      ['Always', 'Always', 'IfNotPresent', 'Never'],
    );
  });

  it('defaults probes, ports, field references and volumes, leaving requests to pods', () => {
    const object = deployment(webSpec());
    object.spec.template.spec = {
      containers: [
        {
          name: 'a',
          image: 'nginx:1',
          ports: [{ containerPort: 80 }],
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
          readinessProbe: { httpGet: { port: 80 } },
          resources: { limits: { cpu: '1' } },
        },
      ],
      volumes: [{ name: 'scratch' }, { name: 'config', configMap: { name: 'cfg' } }],
    };
    deployments.strategy.prepareForCreate!(object, USER);
    const [container] = object.spec.template.spec.containers;
    assert.deepEqual(container.ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.equal(container.env[0].valueFrom.fieldRef.apiVersion, 'v1');
    assert.deepEqual(container.readinessProbe, { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    // Templates keep limits only: upstream copies limits into requests for Pods, not for templates.
    assert.deepEqual(container.resources, { limits: { cpu: '1' } });
    assert.deepEqual(object.spec.template.spec.volumes, [{ name: 'scratch', emptyDir: {} }, { name: 'config', configMap: { name: 'cfg', defaultMode: 420 } }]);
  });

  it('leaves a Recreate strategy without rolling update parameters', () => {
    const object = deployment(webSpec({ strategy: { type: 'Recreate' } }));
    assert.deepEqual(problems(deployments, object), []);
    assert.deepEqual(object.spec.strategy, { type: 'Recreate' });
  });
});

describe('Deployment validation', () => {
  it('requires a selector that matches the template labels, in upstream words', () => {
    const missing = deployment(webSpec({ selector: undefined }));
    assert.deepEqual(problems(deployments, missing), ['spec.selector: Required value']);
    const mismatch = deployment(webSpec({ selector: { matchLabels: { app: 'api' } } }));
    deployments.strategy.prepareForCreate!(mismatch, USER);
    const [error, ...rest] = deployments.strategy.validate!(mismatch, USER);
    assert.deepEqual(rest, []);
    assert.equal(error.field, 'spec.template.metadata.labels');
    assert.equal(error.type, 'FieldValueInvalid');
    assert.deepEqual(error.value, { app: 'web' });
    assert.equal(error.detail, '`selector` does not match template `labels`');
  });

  it('refuses empty selectors, pods without containers, and other restart policies', () => {
    const object = deployment({ selector: {}, template: { spec: { restartPolicy: 'Never' } } });
    assert.deepEqual(problems(deployments, object), [
      'spec.selector: Invalid value: "object": empty selector is invalid for deployment',
      'spec.template.spec.containers: Required value',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
  });

  it('checks containers, rolling update bounds and the progress deadline', () => {
    const object = deployment(
      webSpec({
        replicas: -1,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '0%' } },
        minReadySeconds: 700,
      }),
    );
    object.spec.template.spec.containers = [{ name: 'Web' }, { name: 'Web', image: 'x' }];
    assert.deepEqual(problems(deployments, object), [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      `spec.template.spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      'spec.template.spec.containers[0].image: Required value',
      `spec.template.spec.containers[1].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
      'spec.template.spec.containers[1].name: Duplicate value: "Web"',
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
      'spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds',
    ]);
    const tooMuch = deployment(webSpec({ strategy: { rollingUpdate: { maxUnavailable: '150%', maxSurge: 'lots' } } }));
    assert.deepEqual(problems(deployments, tooMuch), [
      `spec.strategy.rollingUpdate.maxSurge: Invalid value: "lots": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`,
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%',
    ]);
  });

  it('keeps the selector for good on update', () => {
    const old = deployment(webSpec());
    deployments.strategy.prepareForCreate!(old, USER);
    const next = deployment(webSpec({ selector: { matchLabels: { app: 'web', tier: 'x' } } }));
    next.spec.template.metadata.labels.tier = 'x';
    deployments.strategy.prepareForUpdate!(next, old, USER);
    const errors = deployments.strategy.validateUpdate!(next, old, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
    assert.deepEqual(errors, ['spec.selector: Invalid value: "object": field is immutable']);
  });
});

describe('Deployment and ReplicaSet printers', () => {
  function cells(definition: ResourceDefinition, object: KubeObject): unknown[] {
    return tableRow(columnsOf(definition), object, 'None').cells as unknown[];
  }

  it('prints READY as ready/desired, counters as numbers, and containers, images and selector wide', () => {
    const object = deployment(webSpec({ replicas: 3, selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['b', 'a'] }] } }));
    object.spec.template.spec.containers.push({ name: 'sidecar', image: 'envoy:1' });
    object.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 1 };
    object.metadata.creationTimestamp = new Date(Date.now() - 90_000).toISOString();
    assert.deepEqual(columnsOf(deployments).map((c) => [c.name, c.priority ?? 0]), [
      ['Name', 0], ['Ready', 0], ['Up-to-date', 0], ['Available', 0], ['Age', 0], ['Containers', 1], ['Images', 1], ['Selector', 1],
    ]);
    assert.deepEqual(cells(deployments, object), ['web', '2/3', 3, 1, '90s', 'nginx,sidecar', 'nginx:1.27,envoy:1', 'app=web,tier in (a,b)']);
    assert.deepEqual(cells(deployments, deployment({})).slice(1, 4), ['0/0', 0, 0]);
  });

  it('prints ReplicaSets with desired, current and ready counts', () => {
    const object: KubeObject = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-abc' }, spec: webSpec({ replicas: 2 }), status: { replicas: 2, readyReplicas: 1 } };
    assert.deepEqual(columnsOf(replicaSets).map((c) => c.name), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector']);
    assert.deepEqual(cells(replicaSets, object).filter((_, i) => i !== 4), ['web-abc', 2, 2, 1, 'nginx', 'nginx:1.27', 'app=web']);
  });
});

describe('workload APIs over HTTP', () => {
  let port = 0;
  let close: () => Promise<void> = async () => {};
  const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => request(port, method, path, { body, headers });
  const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';

  before(async () => {
    const storage = new MemoryStorage();
    const definitions = builtinSchemas();
    const server = new ApiServer({ name: 'workloads-test', authentication: { clientCa: [], untrustedIdentityHeaders: 'strip' }, authorizer: async () => ({ allowed: true }) });
    for (const [groupVersion, priority] of Object.entries(workloadPriorities)) server.discovery.priorities.set(groupVersion, priority);
    for (const definition of workloadResources) {
      const schema = definitions[definition.schemaName!];
      assert.ok(schema, definition.schemaName);
      const hooks = { structuralCheck: structuralCheckFor(schema, definitions) };
      server.addResource({ definition, storage, hooks, patchMeta: schemaPatchMeta(schema, definitions) });
    }
    await server.startCaches();
    const httpServer = http.createServer(server.callback());
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    port = (httpServer.address() as AddressInfo).port;
    close = async () => {
      await server.shutdown(1000);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    };
  });
  after(async () => close());

  it('creates a Deployment with defaults, generation 1 and an empty status', async () => {
    const response = await call('POST', DEPLOYMENTS, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: webSpec() });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.json.metadata.generation, 1);
    assert.equal(response.json.spec.replicas, 1);
    assert.deepEqual(response.json.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.deepEqual(response.json.status, {});
    assert.deepEqual(response.json.spec.template.metadata, { labels: { app: 'web' }, creationTimestamp: null });
  });

  it('answers a selector mismatch with a 422 naming the template labels', async () => {
    const response = await call('POST', DEPLOYMENTS, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad' }, spec: webSpec({ selector: { matchLabels: { app: 'other' } } }) });
    assert.equal(response.status, 422, response.text);
    assert.deepEqual(
      response.json.details.causes.map((cause: { field: string }) => cause.field),
      ['spec.template.metadata.labels'],
    );
    assert.match(response.json.message, /^Deployment\.apps "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: .*: `selector` does not match template `labels`$/);
  });

  it('splits spec and status: status writes leave the spec, spec writes leave the status and bump generation', async () => {
    const current = (await call('GET', `${DEPLOYMENTS}/web`)).json;
    const statusWrite = await call('PUT', `${DEPLOYMENTS}/web/status`, { ...current, spec: { ...current.spec, replicas: 5 }, status: { replicas: 1, readyReplicas: 1, observedGeneration: 1 } });
    assert.equal(statusWrite.status, 200, statusWrite.text);
    assert.equal(statusWrite.json.spec.replicas, 1);
    assert.deepEqual(statusWrite.json.status, { replicas: 1, readyReplicas: 1, observedGeneration: 1 });
    assert.equal(statusWrite.json.metadata.generation, 1);
    const specWrite = await call('PATCH', `${DEPLOYMENTS}/web`, { spec: { replicas: 3 }, status: { replicas: 9 } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(specWrite.status, 200, specWrite.text);
    assert.equal(specWrite.json.spec.replicas, 3);
    assert.equal(specWrite.json.status.replicas, 1);
    assert.equal(specWrite.json.metadata.generation, 2);
  });

  it('refuses to change the selector of a stored Deployment', async () => {
    const response = await call('PATCH', DEPLOYMENTS + '/web', { spec: { selector: { matchLabels: { app: 'web', v: '2' } }, template: { metadata: { labels: { v: '2' } } } } }, { 'Content-Type': 'application/merge-patch+json' });
    assert.equal(response.status, 422, response.text);
    assert.match(response.json.message, /spec\.selector: Invalid value: .*: field is immutable/);
  });

  it('serves the kubectl table with ready counts and wide columns', async () => {
    const response = await call('GET', DEPLOYMENTS, undefined, { Accept: TABLE_ACCEPT });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.json.columnDefinitions.map((c: { name: string }) => c.name), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    assert.ok(response.json.columnDefinitions[2].description.length > 0);
    const [row] = response.json.rows;
    assert.deepEqual([row.cells[0], row.cells[1], row.cells[2], row.cells[3], row.cells[5], row.cells[6], row.cells[7]], ['web', '1/3', 0, 0, 'nginx', 'nginx:1.27', 'app=web']);
  });

  it('creates every workload kind from a minimal manifest, defaulted and valid against its schema', async () => {
    const template = { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'w', image: 'busybox' }] } };
    const selector = { matchLabels: { app: 'w' } };
    const jobTemplate = { spec: { template: { spec: { containers: [{ name: 'w', image: 'busybox' }], restartPolicy: 'OnFailure' } } } };
    const manifests: [string, Record<string, unknown>][] = [
      ['/apis/apps/v1/namespaces/default/replicasets', { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'w' }, spec: { selector, template } }],
      ['/apis/apps/v1/namespaces/default/statefulsets', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'w' }, spec: { selector, template, serviceName: 'w' } }],
      ['/apis/apps/v1/namespaces/default/daemonsets', { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'w' }, spec: { selector, template } }],
      ['/apis/apps/v1/namespaces/default/controllerrevisions', { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'w-1' }, data: { spec: {} }, revision: 1 }],
      ['/apis/batch/v1/namespaces/default/cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'w' }, spec: { schedule: '@hourly', jobTemplate } }],
      ['/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'w' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'w' }, maxReplicas: 3 } }],
      ['/apis/policy/v1/namespaces/default/poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'w' }, spec: { minAvailable: '50%', selector } }],
    ];
    for (const [path, manifest] of manifests) {
      const response = await call('POST', path, manifest);
      assert.equal(response.status, 201, `${manifest.kind}: ${response.text}`);
      const table = await call('GET', `${path}/${manifest.metadata && (manifest.metadata as { name: string }).name}`, undefined, { Accept: TABLE_ACCEPT });
      assert.equal(table.status, 200, table.text);
      assert.ok(table.json.rows[0].cells.every((cell: unknown) => cell !== null), `${manifest.kind}: ${JSON.stringify(table.json.rows[0].cells)}`);
    }
  });

  it('creates a Job whose pods and selector carry the generated controller-uid and job-name labels', async () => {
    const response = await call('POST', '/apis/batch/v1/namespaces/default/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      // As `kubectl create job` sends it: Go's zero timestamps and empty structs included.
      metadata: { name: 'pi', creationTimestamp: null },
      spec: { template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'pi', image: 'perl', resources: {} }], restartPolicy: 'Never' } } },
      status: {},
    });
    assert.equal(response.status, 201, response.text);
    const labels = response.json.spec.template.metadata.labels;
    const uid = labels['batch.kubernetes.io/controller-uid'];
    assert.match(uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(labels, { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': uid, 'job-name': 'pi' });
    assert.deepEqual(response.json.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    assert.deepEqual(response.json.metadata.labels, labels);
    assert.deepEqual(response.json.status, {});
    const running = await call('GET', '/apis/batch/v1/namespaces/default/jobs?fieldSelector=status.successful%3D0');
    assert.deepEqual(running.json.items.map((item: KubeObject) => item.metadata.name), ['pi']);
    const refused = await call('POST', '/apis/batch/v1/namespaces/default/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'loop' },
      spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl' }] } } },
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.json.message, 'Job.batch "loop" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"');
  });

  // Upstream fills metadata.uid before validation generates the labels; the generic store assigns it after,
  // replacing the one the Job strategy chose. Passes once the store keeps a uid prepareForCreate set.
  it('labels a Job with its own metadata.uid', async () => {
    const response = await call('POST', '/apis/batch/v1/namespaces/default/jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'uid-check' },
      spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl' }], restartPolicy: 'Never' } } },
    });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.json.spec.selector.matchLabels['batch.kubernetes.io/controller-uid'], response.json.metadata.uid);
  });

  it('lists the kinds in discovery with short names, categories and status subresources', async () => {
    const apps = (await call('GET', '/apis/apps/v1')).json;
    const byName = new Map(apps.resources.map((r: { name: string }) => [r.name, r]));
    assert.deepEqual((byName.get('deployments') as { shortNames: string[] }).shortNames, ['deploy']);
    assert.deepEqual((byName.get('deployments') as { categories: string[] }).categories, ['all']);
    assert.ok(byName.has('deployments/status'));
    assert.ok(byName.has('statefulsets/status') && byName.has('daemonsets/status') && byName.has('replicasets/status'));
    const batch = (await call('GET', '/apis/batch/v1')).json;
    assert.deepEqual(batch.resources.map((r: { name: string }) => r.name).sort(), ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']);
  });
});
