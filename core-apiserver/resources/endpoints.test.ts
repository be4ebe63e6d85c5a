import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../apiserver/registry/object.js';
import type { StrategyContext } from '../../apiserver/registry/resource.js';
import { fieldErrorMessage } from '../../apiserver/request/status.js';
import { endpoints, formatEndpoints } from './endpoints.js';
import { endpointSlices, formatSliceEndpoints, formatSlicePorts } from './endpointslices.js';

const USER: StrategyContext = { user: { username: 'alice', groups: [] }, warnings: [], dryRun: false };

function messages(definition: typeof endpoints, object: KubeObject): string[] {
  definition.strategy.prepareForCreate!(object, USER);
  return definition.strategy.validate!(object, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
}

function ep(subsets: unknown): KubeObject {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets };
}

function slice(fields: Record<string, unknown>): KubeObject {
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'default' }, ...fields };
}

describe('Endpoints', () => {
  it('defaults port protocols to TCP and sorts addresses by IP', () => {
    const object = ep([{ addresses: [{ ip: '10.0.0.10' }, { ip: '10.0.0.9' }, { ip: '10.0.0.9' }], ports: [{ port: 80 }] }]);
    assert.deepEqual(messages(endpoints, object), []);
    endpoints.strategy.canonicalize!(object);
    assert.deepEqual(object.subsets, [{ addresses: [{ ip: '10.0.0.9' }, { ip: '10.0.0.10' }], ports: [{ port: 80, protocol: 'TCP' }] }]);
  });

  it('refuses subsets without addresses, invalid IPs, special IPs and unnamed ports among several', () => {
    assert.deepEqual(messages(endpoints, ep([{ ports: [{ port: 80 }] }])), ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`']);
    assert.deepEqual(messages(endpoints, ep([{ addresses: [{ ip: '169.254.1.1' }], ports: [{ port: 80 }, { name: 'b', port: 0, protocol: 'HTTP' }] }])), [
      'subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      'subsets[0].ports[0].name: Required value',
      'subsets[0].ports[1].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'subsets[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);
    assert.deepEqual(messages(endpoints, ep([{ addresses: [{ ip: 'nope' }] }])), [
      'subsets[0].addresses[0].ip: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
      'subsets[0].addresses[0].ip: Invalid value: "nope": must be a valid IP address',
    ]);
  });

  it('prints at most three host:port pairs, then how many more, and <none> without subsets', () => {
    const object = ep([
      { addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 443 }] },
      { addresses: [{ ip: '10.0.0.3' }, { ip: 'fd00::4' }], ports: [{ port: 8443 }] },
    ]);
    assert.equal(formatEndpoints(object), '10.0.0.1:443,10.0.0.2:443,10.0.0.3:8443 + 1 more...');
    assert.equal(formatEndpoints(ep([{ addresses: [{ ip: 'fd00::4' }], ports: [{ port: 80 }] }])), '[fd00::4]:80');
    assert.equal(formatEndpoints(ep([{ addresses: [{ ip: '10.0.0.7' }] }])), '10.0.0.7');
    assert.equal(formatEndpoints(ep(undefined)), '<none>');
    assert.deepEqual(
      endpoints.printerColumns!.map((column) => column.name),
      ['Name', 'Endpoints', 'Age'],
    );
  });
});

describe('EndpointSlice', () => {
  it('requires a known address type and checks addresses against it', () => {
    assert.deepEqual(messages(endpointSlices, slice({ endpoints: [] })), ['addressType: Required value']);
    assert.deepEqual(messages(endpointSlices, slice({ addressType: 'IPX', endpoints: [] })), ['addressType: Unsupported value: "IPX": supported values: "FQDN", "IPv4", "IPv6"']);
    assert.deepEqual(messages(endpointSlices, slice({ addressType: 'IPv4', endpoints: [{ addresses: ['fd00::1'] }, { addresses: [] }] })), [
      'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
      'endpoints[1].addresses: Required value: must contain at least 1 address',
    ]);
    assert.deepEqual(messages(endpointSlices, slice({ addressType: 'FQDN', endpoints: [{ addresses: ['localhost'] }] })), [
      'endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at least two segments separated by dots',
    ]);
  });

  it('defaults ports to TCP with an empty name, and stores absent ports as null', () => {
    const withPorts = slice({ addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ port: 80 }] });
    assert.deepEqual(messages(endpointSlices, withPorts), []);
    assert.deepEqual(withPorts.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
    const withoutPorts = slice({ addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }] });
    endpointSlices.strategy.prepareForCreate!(withoutPorts, USER);
    assert.equal(withoutPorts.ports, null);
  });

  it('keeps its address type for good', () => {
    const old = slice({ addressType: 'IPv4', endpoints: [] });
    const next = slice({ addressType: 'IPv6', endpoints: [] });
    const errors = endpointSlices.strategy.validateUpdate!(next, old, USER).map((error) => `${error.field}: ${fieldErrorMessage(error)}`);
    assert.deepEqual(errors, ['addressType: Invalid value: "IPv6": field is immutable']);
  });

  it('prints ports and endpoints as upstream: three at most, then + N more..., <unset> when empty', () => {
    const object = slice({ addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1', '10.0.0.2'] }, { addresses: ['10.0.0.3', '10.0.0.4', '10.0.0.5'] }], ports: [{ port: 80 }, { name: 'https' }] });
    assert.equal(formatSliceEndpoints(object), '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...');
    assert.equal(formatSlicePorts(object), '80,https');
    assert.equal(formatSlicePorts(slice({ ports: null })), '<unset>');
    assert.equal(formatSliceEndpoints(slice({ endpoints: [] })), '<unset>');
    assert.deepEqual(
      endpointSlices.printerColumns!.map((column) => column.name),
      ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'],
    );
  });
});
