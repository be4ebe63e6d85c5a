// Upstream's bootstrap configuration of API Priority and Fairness (Kubernetes 1.32): the mandatory objects
// (exempt, catch-all), which are in effect even before they are stored or after someone deletes them, and
// the suggested ones. Core-apiserver writes both at start and keeps them as they are here while their
// `apf.kubernetes.io/autoupdate-spec` annotation says "true".

import type { FlowSchema, PolicyRulesWithSubjects, PriorityLevelConfiguration, QueuingConfiguration, ResourcePolicyRule, Subject } from './types.js';

const group = (name: string): Subject => ({ kind: 'Group', group: { name } });
const user = (name: string): Subject => ({ kind: 'User', user: { name } });
const kubeSystemServiceAccount = (name: string): Subject => ({ kind: 'ServiceAccount', serviceAccount: { namespace: 'kube-system', name } });

const everyResource: ResourcePolicyRule = { verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] };

function everything(subjects: Subject[]): PolicyRulesWithSubjects {
  return { subjects, resourceRules: [everyResource], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }] };
}

function flowSchema(name: string, priorityLevel: string, matchingPrecedence: number, distinguisher: 'ByUser' | 'ByNamespace' | undefined, rules: PolicyRulesWithSubjects[]): FlowSchema {
  return {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name },
    spec: { priorityLevelConfiguration: { name: priorityLevel }, matchingPrecedence, ...(distinguisher ? { distinguisherMethod: { type: distinguisher } } : {}), rules },
  };
}

function limited(name: string, nominalConcurrencyShares: number, lendablePercent: number, queuing?: QueuingConfiguration): PriorityLevelConfiguration {
  return {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'PriorityLevelConfiguration',
    metadata: { name },
    spec: {
      type: 'Limited',
      limited: { nominalConcurrencyShares, lendablePercent, limitResponse: queuing ? { type: 'Queue', queuing } : { type: 'Reject' } },
    },
  };
}

const leaderElectionRules = (configMapNamespaces: string[]): ResourcePolicyRule[] => [
  { verbs: ['get', 'create', 'update'], apiGroups: [''], resources: ['endpoints', 'configmaps'], clusterScope: false, namespaces: configMapNamespaces },
  { verbs: ['get', 'create', 'update'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], clusterScope: false, namespaces: ['*'] },
];

export const MANDATORY_PRIORITY_LEVELS: PriorityLevelConfiguration[] = [
  {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'PriorityLevelConfiguration',
    metadata: { name: 'exempt' },
    spec: { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } },
  },
  limited('catch-all', 5, 0),
];

export const MANDATORY_FLOW_SCHEMAS: FlowSchema[] = [
  flowSchema('exempt', 'exempt', 1, undefined, [everything([group('system:masters')])]),
  flowSchema('catch-all', 'catch-all', 10000, 'ByUser', [everything([group('system:unauthenticated'), group('system:authenticated')])]),
];

export const SUGGESTED_PRIORITY_LEVELS: PriorityLevelConfiguration[] = [
  limited('system', 30, 33, { queues: 64, handSize: 6, queueLengthLimit: 50 }),
  limited('node-high', 40, 25, { queues: 64, handSize: 6, queueLengthLimit: 50 }),
  limited('leader-election', 10, 0, { queues: 16, handSize: 4, queueLengthLimit: 50 }),
  limited('workload-high', 40, 50, { queues: 128, handSize: 6, queueLengthLimit: 50 }),
  limited('workload-low', 100, 90, { queues: 128, handSize: 6, queueLengthLimit: 50 }),
  limited('global-default', 20, 50, { queues: 128, handSize: 6, queueLengthLimit: 50 }),
];

export const SUGGESTED_FLOW_SCHEMAS: FlowSchema[] = [
  flowSchema('system-nodes', 'system', 500, 'ByUser', [everything([group('system:nodes')])]),
  flowSchema('system-node-high', 'node-high', 400, 'ByUser', [
    {
      subjects: [group('system:nodes')],
      resourceRules: [
        { verbs: ['*'], apiGroups: [''], resources: ['nodes', 'nodes/status'], clusterScope: true, namespaces: ['*'] },
        { verbs: ['*'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], clusterScope: false, namespaces: ['*'] },
      ],
    },
  ]),
  flowSchema('probes', 'exempt', 2, undefined, [
    { subjects: [group('system:unauthenticated'), group('system:authenticated')], nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/readyz', '/livez'] }] },
  ]),
  flowSchema('system-leader-election', 'leader-election', 100, 'ByUser', [
    { subjects: [user('system:kube-controller-manager'), user('system:kube-scheduler'), kubeSystemServiceAccount('*')], resourceRules: leaderElectionRules(['kube-system']) },
  ]),
  flowSchema('endpoint-controller', 'workload-high', 150, 'ByUser', [
    {
      subjects: [user('system:kube-controller-manager'), kubeSystemServiceAccount('endpoint-controller')],
      resourceRules: [{ verbs: ['get', 'create', 'update'], apiGroups: [''], resources: ['endpoints'], clusterScope: false, namespaces: ['*'] }],
    },
  ]),
  flowSchema('workload-leader-election', 'leader-election', 200, 'ByUser', [{ subjects: [kubeSystemServiceAccount('*')], resourceRules: leaderElectionRules(['*']) }]),
  flowSchema('kube-controller-manager', 'workload-high', 800, 'ByNamespace', [everything([user('system:kube-controller-manager')])]),
  flowSchema('kube-scheduler', 'workload-high', 800, 'ByNamespace', [everything([user('system:kube-scheduler')])]),
  flowSchema('kube-system-service-accounts', 'workload-high', 900, 'ByNamespace', [everything([kubeSystemServiceAccount('*')])]),
  flowSchema('service-accounts', 'workload-low', 9000, 'ByUser', [everything([group('system:serviceaccounts')])]),
  flowSchema('global-default', 'global-default', 9900, 'ByUser', [everything([group('system:unauthenticated'), group('system:authenticated')])]),
];
