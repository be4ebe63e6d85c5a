import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { StrategyContext } from '../../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { imageTag, podQOSClass } from './pod-defaults.js';
import { podCells } from './pod-printer.js';
import { POD_UPDATE_FORBIDDEN } from './pod-validation.js';
import { pods } from './pods.js';

function context(): StrategyContext {
  return { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };
}

function pod(spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec, ...extra };
}

function created(spec: Record<string, unknown>): KubeObject {
  const object = pod(structuredClone(spec));
  pods.strategy.prepareForCreate!(object, context());
  return object;
}

function problems(spec: Record<string, unknown>): string[] {
  return pods.strategy.validate!(created(spec), context()).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function updateProblems(old: KubeObject, change: (spec: Record<string, unknown>) => void): string[] {
  const next = structuredClone(old);
  change(next.spec);
  pods.strategy.prepareForUpdate!(next, old, context());
  return pods.strategy.validateUpdate!(next, old, context()).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

const MINUTES_AGO = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

describe('Pod defaults', () => {
  it('fills the spec as `kubectl get -o yaml` shows a new pod, admission defaults included', () => {
    const object = created({ automountServiceAccountToken: false, containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }] });
    assert.deepEqual(object.spec, {
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'nginx',
          image: 'nginx',
          ports: [{ containerPort: 80, protocol: 'TCP' }],
          imagePullPolicy: 'Always',
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          resources: {},
        },
      ],
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      enableServiceLinks: true,
      serviceAccountName: 'default',
      serviceAccount: 'default',
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    });
    assert.deepEqual(object.status, { phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('mounts a projected service account token into every container unless one is mounted already', () => {
    const object = created({ initContainers: [{ name: 'init', image: 'x' }], containers: [{ name: 'a', image: 'x' }] });
    const [volume] = object.spec.volumes;
    assert.match(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.deepEqual(volume.projected.sources[0], { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
    assert.equal(volume.projected.defaultMode, 420);
    for (const container of [...object.spec.initContainers, ...object.spec.containers]) {
      assert.deepEqual(container.volumeMounts, [{ name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    }
    const own = created({ volumes: [{ name: 'token', secret: { secretName: 't' } }], containers: [{ name: 'a', image: 'x', volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }] });
    assert.deepEqual(own.spec.volumes, [{ name: 'token', secret: { secretName: 't', defaultMode: 420 } }]);
  });

  it('pulls `:latest` and untagged images always, tagged and digest-only ones if not present', () => {
    assert.equal(imageTag('nginx'), 'latest');
    assert.equal(imageTag('registry:5000/team/app'), 'latest');
    assert.equal(imageTag('registry:5000/team/app:1.2'), '1.2');
    assert.equal(imageTag('app@sha256:abc'), '');
    const object = created({ containers: [{ name: 'a', image: 'nginx:latest' }, { name: 'b', image: 'nginx:1.27' }, { name: 'c', image: 'x', imagePullPolicy: 'Never' }] });
    assert.deepEqual(
      object.spec.containers.map((container: { imagePullPolicy: string }) => container.imagePullPolicy),
      ['Always', 'IfNotPresent', 'Never'],
    );
  });

  it('keeps tolerations that already cover the default taints and the chosen service account', () => {
    const object = created({
      serviceAccountName: 'builder',
      tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }],
      containers: [{ name: 'a', image: 'x' }],
    });
    assert.equal(object.spec.serviceAccount, 'builder');
    assert.deepEqual(
      object.spec.tolerations.map((toleration: { key: string; tolerationSeconds: number }) => `${toleration.key}=${toleration.tolerationSeconds}`),
      ['node.kubernetes.io/unreachable=10', 'node.kubernetes.io/not-ready=300'],
    );
  });

  it('copies limits into missing requests and classifies QoS from requests and limits', () => {
    const guaranteed = created({ containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '1', memory: '1Gi' } } }] });
    assert.deepEqual(guaranteed.spec.containers[0].resources, { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } });
    assert.equal(guaranteed.status.qosClass, 'Guaranteed');
    assert.equal(podQOSClass({ containers: [{ resources: { requests: { cpu: '1000m', memory: '1Gi' }, limits: { cpu: '1', memory: '1024Mi' } } }] }), 'Guaranteed');
    assert.equal(podQOSClass({ containers: [{ resources: { requests: { cpu: '100m' } } }] }), 'Burstable');
    assert.equal(podQOSClass({ containers: [{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '2', memory: '1Gi' } } }] }), 'Burstable');
    assert.equal(podQOSClass({ containers: [{ resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } }, { resources: {} }] }), 'Burstable');
    assert.equal(podQOSClass({ containers: [{ resources: { requests: { 'nvidia.com/gpu': '1' } } }] }), 'BestEffort');
  });

  it('starts gated pods with the SchedulingGated condition', () => {
    const object = created({ schedulingGates: [{ name: 'wait' }], containers: [{ name: 'a', image: 'x' }] });
    assert.equal(object.status.conditions[0].reason, 'SchedulingGated');
    assert.equal(podCells(object).status, 'SchedulingGated');
  });
});

describe('Pod validation', () => {
  it('requires containers, unique DNS-label names and images', () => {
    assert.deepEqual(problems({ containers: [] }), ['spec.containers: Required value']);
    assert.deepEqual(problems({ containers: [{ name: 'web', image: 'x' }, { name: 'web', image: '' }, { name: 'Bad_Name', image: 'y' }] }), [
      'spec.containers[1].name: Duplicate value: "web"',
      'spec.containers[1].image: Required value',
      `spec.containers[2].name: Invalid value: "Bad_Name": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    assert.deepEqual(problems({ initContainers: [{ name: 'web', image: 'x' }], containers: [{ name: 'web', image: 'x' }] }), ['spec.containers[0].name: Duplicate value: "web"']);
  });

  it('checks ports, policies, the deadline and requests against limits with upstream texts', () => {
    assert.deepEqual(problems({ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 70000 }, { containerPort: 80, hostPort: -1, protocol: 'HTTP' }] }] }), [
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[1].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive',
      'spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);
    assert.deepEqual(problems({ restartPolicy: 'Sometimes', dnsPolicy: 'Google', activeDeadlineSeconds: 0, containers: [{ name: 'a', image: 'x', imagePullPolicy: 'Maybe' }] }), [
      'spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
      'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"',
      'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive',
    ]);
    assert.deepEqual(problems({ containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }), [
      'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ]);
  });

  it('freezes the spec on update except images, a shorter deadline and added tolerations', () => {
    const old = created({ activeDeadlineSeconds: 100, containers: [{ name: 'a', image: 'nginx:1.26', ports: [{ containerPort: 80 }] }] });
    assert.deepEqual(updateProblems(old, (spec) => ((spec.containers as { image: string }[])[0].image = 'nginx:1.27')), []);
    assert.deepEqual(updateProblems(old, (spec) => (spec.activeDeadlineSeconds = 50)), []);
    assert.deepEqual(updateProblems(old, (spec) => (spec.tolerations as unknown[]).push({ key: 'gpu', operator: 'Exists' })), []);
    assert.deepEqual(updateProblems(old, (spec) => ((spec.containers as { ports: { containerPort: number }[] }[])[0].ports[0].containerPort = 8080)), [`spec: Forbidden: ${POD_UPDATE_FORBIDDEN}`]);
    assert.deepEqual(updateProblems(old, (spec) => (spec.activeDeadlineSeconds = 200)), ['spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value']);
    assert.deepEqual(updateProblems(old, (spec) => (spec.tolerations as unknown[]).pop()), ['spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds']);
    assert.deepEqual(updateProblems(old, (spec) => ((spec.containers as { image: string }[])[0].image = '')), ['spec.containers[0].image: Required value']);
    assert.match(POD_UPDATE_FORBIDDEN, /^pod updates may not change fields other than `spec.containers\[\*\].image`,/);
  });
});

describe('Pod printer', () => {
  const base = { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] };

  it('prints a new pod as 0/N Pending with no restarts', () => {
    const { restartsCell: _fresh, ...fresh } = podCells(created(base));
    assert.deepEqual(fresh, { ready: '0/2', status: 'Pending', restarts: '0' });
  });

  it('shows the waiting reason, ready counts and restarts with the age of the last one', () => {
    const running = pod(base, {
      status: {
        phase: 'Running',
        containerStatuses: [
          { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
          { name: 'b', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: MINUTES_AGO(5) } } },
        ],
      },
    });
    const { restartsCell: _crashing, ...crashing } = podCells(running);
    assert.deepEqual(crashing, { ready: '1/2', status: 'CrashLoopBackOff', restarts: '3 (5m ago)' });
  });

  it('reports init progress, exit codes and Terminating', () => {
    const initializing = pod({ ...base, initContainers: [{ name: 'i1', image: 'z' }, { name: 'i2', image: 'z' }] }, {
      status: { phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 0 } } }, { name: 'i2', state: { running: {} } }] },
    });
    assert.equal(podCells(initializing).status, 'Init:1/2');
    const failed = pod(base, { status: { phase: 'Running', containerStatuses: [{ name: 'a', state: { terminated: { exitCode: 137 } } }] } });
    assert.equal(podCells(failed).status, 'ExitCode:137');
    const deleting = pod(base, { metadata: { name: 'web', deletionTimestamp: MINUTES_AGO(0) }, status: { phase: 'Running' } });
    assert.equal(podCells(deleting).status, 'Terminating');
  });

  it('declares upstream columns, wide ones at priority 1, and the <none> cells', () => {
    assert.deepEqual(
      pods.printerColumns!.map((column) => `${column.name}${column.priority ? '*' : ''}`),
      ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP*', 'Node*', 'Nominated Node*', 'Readiness Gates*'],
    );
    const object = created(base);
    assert.deepEqual(pods.printerColumns!.slice(5).map((column) => column.value(object)), ['<none>', '<none>', '<none>', '<none>']);
    const scheduled = pod({ ...base, nodeName: 'node-1', readinessGates: [{ conditionType: 'x' }] }, { status: { podIPs: [{ ip: '10.244.0.5' }], conditions: [{ type: 'x', status: 'True' }] } });
    assert.deepEqual(pods.printerColumns!.slice(5).map((column) => column.value(scheduled)), ['10.244.0.5', 'node-1', '<none>', '1/1']);
    assert.deepEqual(Object.keys(pods.selectableFields).filter((field) => field === 'spec.nodeName' || field === 'status.phase'), ['spec.nodeName', 'status.phase']);
  });
});
