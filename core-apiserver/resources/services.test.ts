import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../apiserver/registry/object.js';
import type { StrategyContext } from '../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../apiserver/request/status.js';
import { nameValidator } from '../../apiserver/registry/validate-meta.js';
import { applyServiceDefaults, dropTypeDependentFields } from './service-defaults.js';
import { formatLabels, serviceExternalIP, servicePorts, services } from './services.js';

function context(): StrategyContext {
  return { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };
}

function svc(spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec, ...(status ? { status } : {}) };
}

/** The messages kubectl would print for a new Service, after defaulting as the store does. */
function problems(spec: Record<string, unknown>, ctx = context()): string[] {
  const service = svc(structuredClone(spec));
  services.strategy.prepareForCreate!(service, ctx);
  return services.strategy.validate!(service, ctx).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

describe('Service defaults', () => {
  it('fills type, affinity, traffic policies, protocol and targetPort as upstream defaulting does', () => {
    const service = svc({ ports: [{ port: 80 }, { port: 53, protocol: 'UDP', targetPort: 'dns', nodePort: 0 }], clusterIP: '', type: 'NodePort' });
    applyServiceDefaults(service);
    assert.deepEqual(service.spec, {
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 53, protocol: 'UDP', targetPort: 'dns' },
      ],
      type: 'NodePort',
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
    });
  });

  it('gives LoadBalancers allocateLoadBalancerNodePorts and ClientIP affinity its default timeout', () => {
    const service = svc({ type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 443 }] });
    applyServiceDefaults(service);
    assert.equal(service.spec.allocateLoadBalancerNodePorts, true);
    assert.deepEqual(service.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
  });

  it('leaves ExternalName Services without traffic policies and gives new Services an empty load balancer status', () => {
    const service = svc({ type: 'ExternalName', externalName: 'example.com' });
    services.strategy.prepareForCreate!(service, context());
    assert.deepEqual(service.spec, { type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' });
    assert.deepEqual(service.status, { loadBalancer: {} });
  });
});

describe('Service validation', () => {
  it('requires DNS-1035 names', () => {
    assert.deepEqual(nameValidator(services.nameValidation)('1web'), [
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });

  it('requires ports unless headless or ExternalName', () => {
    assert.deepEqual(problems({ selector: { app: 'web' } }), ['spec.ports: Required value']);
    assert.deepEqual(problems({ clusterIP: 'None', clusterIPs: ['None'] }), []);
    assert.deepEqual(problems({ type: 'ExternalName', externalName: 'db.example.com.' }), []);
  });

  it('checks each port: range, protocol, target port and names when there are several', () => {
    assert.deepEqual(problems({ ports: [{ port: 0 }] }), [
      'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
    assert.deepEqual(problems({ ports: [{ port: 80, protocol: 'HTTP' }] }), ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"']);
    assert.deepEqual(problems({ ports: [{ port: 80, targetPort: 'Web_Port' }] }), [
      'spec.ports[0].targetPort: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    ]);
    assert.deepEqual(problems({ ports: [{ name: 'http', port: 80 }, { name: 'http', port: 81 }, { port: 82 }] }), [
      'spec.ports[1].name: Duplicate value: "http"',
      'spec.ports[2].name: Required value',
    ]);
    assert.deepEqual(problems({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }), ['spec.ports[1]: Duplicate value: "80/TCP"']);
  });

  it('checks the type, the selector and what each type needs', () => {
    assert.deepEqual(problems({ type: 'Foo', ports: [{ port: 80 }] }), ['spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']);
    assert.deepEqual(problems({ selector: { 'bad key!': 'x' }, ports: [{ port: 80 }] }), [
      `spec.selector: Invalid value: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
    ]);
    assert.deepEqual(problems({ type: 'ExternalName' }), ['spec.externalName: Required value']);
    assert.deepEqual(problems({ ports: [{ port: 80, nodePort: 30080 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
    assert.deepEqual(problems({ type: 'NodePort', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] }), [
      `spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`,
    ]);
    assert.deepEqual(problems({ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30080 }, { name: 'b', port: 81, nodePort: 30080 }] }), [
      'spec.ports[1].nodePort: Duplicate value: 30080',
    ]);
  });

  it('keeps clusterIP and clusterIPs in agreement', () => {
    assert.deepEqual(problems({ clusterIP: '10.96.0.10', ports: [{ port: 80 }] }), ['spec.clusterIPs: Required value']);
    assert.deepEqual(problems({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.11'], ports: [{ port: 80 }] }), [
      'spec.clusterIPs: Invalid value: []string{"10.96.0.11"}: first value must match `clusterIP`',
    ]);
    assert.deepEqual(problems({ clusterIP: 'nonsense', clusterIPs: ['nonsense'], ports: [{ port: 80 }] }), [
      'spec.clusterIPs[0]: Invalid value: "nonsense": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
  });

  it('warns about fields the type ignores', () => {
    const ctx = context();
    assert.deepEqual(problems({ externalName: 'example.com', ports: [{ port: 80 }] }, ctx), []);
    assert.deepEqual(ctx.warnings, ['spec.externalName is ignored when spec.type is not "ExternalName"']);
  });

  it('refuses to change the cluster IP on update', () => {
    const old = svc({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', ports: [{ port: 80 }] });
    services.strategy.prepareForCreate!(old, context());
    const next = svc({ ...structuredClone(old.spec), clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'] });
    services.strategy.prepareForUpdate!(next, old, context());
    const errors = services.strategy.validateUpdate!(next, old, context()).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
    assert.deepEqual(errors, ['spec.clusterIPs[0]: Invalid value: []string{"10.96.0.20"}: may not change once set']);
  });
});

describe('Service type changes', () => {
  it('clears node ports and the external traffic policy when a NodePort Service becomes ClusterIP unchanged', () => {
    const old = svc({ type: 'NodePort', externalTrafficPolicy: 'Cluster', ports: [{ port: 80, nodePort: 30080 }] });
    const next = svc({ type: 'ClusterIP', externalTrafficPolicy: 'Cluster', ports: [{ port: 80, nodePort: 30080 }] });
    dropTypeDependentFields(next, old);
    assert.deepEqual(next.spec, { type: 'ClusterIP', ports: [{ port: 80 }] });
  });

  it('keeps a node port the client changed, for validation to refuse', () => {
    const old = svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    const next = svc({ type: 'ClusterIP', ports: [{ port: 80, nodePort: 30081 }] });
    dropTypeDependentFields(next, old);
    assert.equal(next.spec.ports[0].nodePort, 30081);
  });
});

describe('Service printer', () => {
  it('prints ports as port/protocol or port:nodePort/protocol, and <none> without ports', () => {
    assert.equal(servicePorts(svc({ ports: [{ port: 443, protocol: 'TCP' }, { port: 80, nodePort: 30080, protocol: 'TCP' }] })), '443/TCP,80:30080/TCP');
    assert.equal(servicePorts(svc({ clusterIP: 'None' })), '<none>');
  });

  it('prints the external IP per type: external IPs, <none>, <pending>, ingress addresses, the CNAME', () => {
    assert.equal(serviceExternalIP(svc({ type: 'ClusterIP' })), '<none>');
    assert.equal(serviceExternalIP(svc({ type: 'NodePort', externalIPs: ['192.0.2.1', '192.0.2.2'] })), '192.0.2.1,192.0.2.2');
    assert.equal(serviceExternalIP(svc({ type: 'LoadBalancer' }, { loadBalancer: {} })), '<pending>');
    assert.equal(
      serviceExternalIP(svc({ type: 'LoadBalancer', externalIPs: ['192.0.2.9'] }, { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }, { ip: '203.0.113.1' }] } })),
      '203.0.113.1,lb.example.com,192.0.2.9',
    );
    assert.equal(serviceExternalIP(svc({ type: 'ExternalName', externalName: 'db.example.com' })), 'db.example.com');
  });

  it('prints selectors sorted by key, <none> when empty', () => {
    assert.equal(formatLabels({ tier: 'web', app: 'shop' }), 'app=shop,tier=web');
    assert.equal(formatLabels(undefined), '<none>');
  });
});
