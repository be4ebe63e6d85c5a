import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../../apiserver/registry/object.js';
import type { ResourceDefinition, StrategyContext } from '../../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../../apiserver/request/status.js';
import { tableRow } from '../../../apiserver/registry/table.js';
import { ingressAddress, ingressClasses, ingressClassParameters, ingresses, ingressHosts, networkPolicies } from './networking.js';

const CONTEXT: StrategyContext = { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };

function problems(definition: ResourceDefinition, object: KubeObject): string[] {
  definition.strategy.prepareForCreate?.(object, CONTEXT);
  return definition.strategy.validate!(object, CONTEXT).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function ingress(spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject {
  return { metadata: { name: 'web', namespace: 'default' }, spec, ...(status ? { status } : {}) };
}

const BACKEND = { service: { name: 'web', port: { number: 80 } } };

describe('Ingress', () => {
  it('accepts rules with typed paths and service backends', () => {
    const spec = { ingressClassName: 'nginx', rules: [{ host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: BACKEND }] } }] };
    assert.deepEqual(problems(ingresses, ingress(spec)), []);
  });

  it('requires a default backend or rules, path types, absolute paths and one kind of port', () => {
    assert.deepEqual(problems(ingresses, ingress({})), ['spec: Invalid value: "object": either `defaultBackend` or `rules` must be specified']);
    const spec = {
      rules: [
        {
          host: '10.0.0.1',
          http: {
            paths: [
              { path: 'api', pathType: 'Exact', backend: BACKEND },
              { path: '/', backend: { service: { name: 'web', port: { name: 'http', number: 80 } } } },
            ],
          },
        },
      ],
    };
    assert.deepEqual(problems(ingresses, ingress(spec)), [
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
      'spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified',
      'spec.rules[0].http.paths[1].backend.service.port: Invalid value: "object": cannot set both port name & port number',
    ]);
  });

  it('prints class, hosts (three at most), sorted addresses and ports 80 or 80, 443', () => {
    const rules = ['a.example.com', 'b.example.com', '', 'c.example.com', 'd.example.com'].map((host) => ({ host }));
    const object = ingress({ rules, tls: [{ hosts: ['a.example.com'] }] }, { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }, { ip: '192.0.2.10' }, { ip: '192.0.2.10' }] } });
    assert.equal(ingressHosts(object), 'a.example.com,b.example.com,c.example.com + 2 more...');
    assert.equal(ingressHosts(ingress({ defaultBackend: BACKEND })), '*');
    assert.equal(ingressAddress(object), '192.0.2.10,lb.example.com');
    const cells = tableRow(ingresses.printerColumns!, object, 'None').cells as unknown[];
    assert.deepEqual(cells.slice(0, 5), ['web', '<none>', 'a.example.com,b.example.com,c.example.com + 2 more...', '192.0.2.10,lb.example.com', '80, 443']);
    assert.deepEqual(ingresses.subresources, { status: { verbs: ['get', 'patch', 'update'], updates: ['status'] } });
  });
});

describe('IngressClass', () => {
  it('requires a domain-prefixed controller and prints parameters as Kind.group/name', () => {
    const ingressClass = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'nginx' }, spec });
    assert.deepEqual(problems(ingressClasses, ingressClass({ controller: 'nginx' })), ['spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")']);
    const object = ingressClass({ controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } });
    assert.deepEqual(problems(ingressClasses, object), []);
    assert.equal(object.spec.parameters.scope, 'Cluster');
    assert.equal(ingressClassParameters(object), 'IngressParameters.k8s.example.com/external-lb');
    assert.equal(ingressClassParameters(ingressClass({ controller: 'k8s.io/x' })), '<none>');
  });
});

describe('NetworkPolicy', () => {
  const policy = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'deny', namespace: 'default' }, spec });

  it('defaults policyTypes from the rules given and port protocols to TCP', () => {
    const ingressOnly = policy({ podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] });
    assert.deepEqual(problems(networkPolicies, ingressOnly), []);
    assert.deepEqual(ingressOnly.spec.policyTypes, ['Ingress']);
    assert.deepEqual(ingressOnly.spec.ingress[0].ports, [{ port: 80, protocol: 'TCP' }]);
    const both = policy({ podSelector: {}, egress: [{}] });
    problems(networkPolicies, both);
    assert.deepEqual(both.spec.policyTypes, ['Ingress', 'Egress']);
  });

  it('checks protocols, port ranges and policy types', () => {
    assert.deepEqual(problems(networkPolicies, policy({ podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80, protocol: 'ICMP' }] }], policyTypes: ['Sideways'] })), [
      'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      'spec.ingress[0].ports[0].endPort: Invalid value: 80: must be greater than or equal to `port`',
      'spec.policyTypes[0]: Unsupported value: "Sideways": supported values: "Egress", "Ingress"',
    ]);
  });

  it('prints the pod selector, <none> when it selects every pod', () => {
    const cell = (spec: Record<string, unknown>) => (tableRow(networkPolicies.printerColumns!, policy(spec), 'None').cells as unknown[])[1];
    assert.equal(cell({ podSelector: {} }), '<none>');
    assert.equal(cell({ podSelector: { matchLabels: { tier: 'db', app: 'shop' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] } }), 'app=shop,env in (dev,prod),tier=db');
  });
});
