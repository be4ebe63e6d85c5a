// DefaultStorageClass (upstream plugin/pkg/admission/storage/storageclass/setdefault): a claim that names
// no class gets the default one — the StorageClass annotated is-default-class=true, the newest when there
// are several (then by name), as upstream has chosen since 1.28. An empty storageClassName is an explicit
// "no class" and is left alone, as is the legacy beta annotation.

import type { AdmissionAttributes, AdmissionPlugin } from '../../apiserver/admission/interface.js';
import type { KubeObject } from '../../apiserver/registry/object.js';
import { isObject } from '../../apiserver/registry/object.js';

const DEFAULT_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];
const BETA_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

export function defaultStorageClassOf(classes: KubeObject[]): KubeObject | undefined {
  const defaults = classes.filter((item) => DEFAULT_ANNOTATIONS.some((key) => item.metadata.annotations?.[key] === 'true'));
  defaults.sort((a, b) => {
    const created = String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? ''));
    return created !== 0 ? created : String(a.metadata.name).localeCompare(String(b.metadata.name));
  });
  return defaults[0];
}

export class DefaultStorageClass implements AdmissionPlugin {
  readonly name = 'DefaultStorageClass';

  constructor(private readonly storageClasses: () => Promise<KubeObject[]>) {}

  async admit(attributes: AdmissionAttributes): Promise<void> {
    const claim = attributes.object;
    if (attributes.operation !== 'CREATE' || attributes.subresource !== '' || attributes.resource.group !== '' || attributes.resource.resource !== 'persistentvolumeclaims' || !claim) return;
    if (!isObject(claim.spec)) claim.spec = {};
    const spec = claim.spec as Record<string, unknown>;
    if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
    if (claim.metadata.annotations?.[BETA_CLASS_ANNOTATION] !== undefined) return;
    const chosen = defaultStorageClassOf(await this.storageClasses());
    if (chosen) spec.storageClassName = chosen.metadata.name;
  }
}
