import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readAdmissionConfiguration } from './admission-configuration.js';
import { PodSecurity } from './pod-security.js';
import { attributesOf, newContext, pod } from './test-support.js';

describe('--admission-control-config-file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'admission-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('gives PodSecurity its defaults and exemptions, inline or from a path beside the file', async () => {
    const inline = readAdmissionConfiguration(
      file(
        'inline.yaml',
        `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults: {enforce: baseline, enforce-version: latest, warn: restricted}
    exemptions: {usernames: [ci-bot], namespaces: [kube-system], runtimeClasses: [kata]}
`,
      ),
    );
    assert.deepEqual(inline.podSecurity, { defaults: { enforce: 'baseline', 'enforce-version': 'latest', warn: 'restricted' }, exemptions: { usernames: ['ci-bot'], namespaces: ['kube-system'], runtimeClasses: ['kata'] } });
    file('psa.yaml', 'apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: restricted}\n');
    const byPath = readAdmissionConfiguration(file('by-path.yaml', 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- {name: PodSecurity, path: psa.yaml}\n'));
    assert.equal(byPath.podSecurity?.defaults?.enforce, 'restricted');

    // The defaults apply to namespaces without labels; exempt users are never judged.
    const plugin = new PodSecurity({ namespaceLabels: async () => ({}), pods: async () => [] }, inline.podSecurity);
    const privileged = pod('p', { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] });
    await assert.rejects(plugin.validate(attributesOf('pods', privileged), newContext()), /violates PodSecurity "baseline:latest": privileged/);
    await plugin.validate(attributesOf('pods', privileged, { user: { username: 'ci-bot', groups: [] } }), newContext());
  });

  it('refuses a file that does not say what it should, naming the field', () => {
    assert.throws(() => readAdmissionConfiguration(join(dir, 'missing.yaml')), /unable to read the admission configuration/);
    assert.throws(() => readAdmissionConfiguration(file('kind.yaml', 'apiVersion: v1\nkind: ConfigMap\n')), /expected an AdmissionConfiguration/);
    assert.throws(
      () => readAdmissionConfiguration(file('level.yaml', 'apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n- name: PodSecurity\n  configuration: {apiVersion: pod-security.admission.config.k8s.io/v1, kind: PodSecurityConfiguration, defaults: {enforce: strict}}\n')),
      /defaults.enforce: Unsupported value: "strict"/,
    );
  });
});
