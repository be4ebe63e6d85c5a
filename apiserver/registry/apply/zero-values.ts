// The zero value of built-in kinds as upstream's field manager sees a Go object: a field without
// `omitempty` is always present (null for pointers, slices and maps), and a struct-typed field is present
// even when empty. So on create (compared with the kind's empty object) `spec` of a Deployment is not
// "added" and gets no "." in FieldsV1, while its labels map is. Generated from the k8s.io/api and
// apimachinery Go types (1.32): `<definition>` → field → 'null' | 'string' | 'number' | 'boolean' |
// '{<definition>}' (a nested struct); definitions are abbreviated (`core.v1.PodSpec`, `meta.ObjectMeta`).

import { isObject } from '../object.js';

type ZeroKind = string;

const ZERO_FIELDS: Record<string, Record<string, ZeroKind>> = {
  'admissionregistration.v1.MutatingWebhookConfiguration': { metadata: '{meta.ObjectMeta}' },
  'admissionregistration.v1.ValidatingAdmissionPolicy': { metadata: '{meta.ObjectMeta}', spec: '{admissionregistration.v1.ValidatingAdmissionPolicySpec}', status: '{admissionregistration.v1.ValidatingAdmissionPolicyStatus}' },
  'admissionregistration.v1.ValidatingAdmissionPolicyBinding': { metadata: '{meta.ObjectMeta}', spec: '{admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec}' },
  'admissionregistration.v1.ValidatingWebhookConfiguration': { metadata: '{meta.ObjectMeta}' },
  'apps.v1.ControllerRevision': { data: 'null', metadata: '{meta.ObjectMeta}', revision: 'number' },
  'apps.v1.DaemonSet': { metadata: '{meta.ObjectMeta}', spec: '{apps.v1.DaemonSetSpec}', status: '{apps.v1.DaemonSetStatus}' },
  'apps.v1.DaemonSetSpec': { selector: 'null', template: '{core.v1.PodTemplateSpec}', updateStrategy: '{apps.v1.DaemonSetUpdateStrategy}' },
  'apps.v1.DaemonSetStatus': { currentNumberScheduled: 'number', desiredNumberScheduled: 'number', numberMisscheduled: 'number', numberReady: 'number' },
  'apps.v1.Deployment': { metadata: '{meta.ObjectMeta}', spec: '{apps.v1.DeploymentSpec}', status: '{apps.v1.DeploymentStatus}' },
  'apps.v1.DeploymentSpec': { selector: 'null', strategy: '{apps.v1.DeploymentStrategy}', template: '{core.v1.PodTemplateSpec}' },
  'apps.v1.ReplicaSet': { metadata: '{meta.ObjectMeta}', spec: '{apps.v1.ReplicaSetSpec}', status: '{apps.v1.ReplicaSetStatus}' },
  'apps.v1.ReplicaSetSpec': { selector: 'null', template: '{core.v1.PodTemplateSpec}' },
  'apps.v1.ReplicaSetStatus': { replicas: 'number' },
  'apps.v1.StatefulSet': { metadata: '{meta.ObjectMeta}', spec: '{apps.v1.StatefulSetSpec}', status: '{apps.v1.StatefulSetStatus}' },
  'apps.v1.StatefulSetSpec': { selector: 'null', serviceName: 'string', template: '{core.v1.PodTemplateSpec}', updateStrategy: '{apps.v1.StatefulSetUpdateStrategy}' },
  'apps.v1.StatefulSetStatus': { availableReplicas: 'number', replicas: 'number' },
  'authentication.v1.SelfSubjectReview': { metadata: '{meta.ObjectMeta}', status: '{authentication.v1.SelfSubjectReviewStatus}' },
  'authentication.v1.SelfSubjectReviewStatus': { userInfo: '{authentication.v1.UserInfo}' },
  'authentication.v1.TokenRequest': { metadata: '{meta.ObjectMeta}', spec: '{authentication.v1.TokenRequestSpec}', status: '{authentication.v1.TokenRequestStatus}' },
  'authentication.v1.TokenRequestSpec': { audiences: 'null', boundObjectRef: 'null', expirationSeconds: 'null' },
  'authentication.v1.TokenRequestStatus': { expirationTimestamp: 'null', token: 'string' },
  'authentication.v1.TokenReview': { metadata: '{meta.ObjectMeta}', spec: '{authentication.v1.TokenReviewSpec}', status: '{authentication.v1.TokenReviewStatus}' },
  'authentication.v1.TokenReviewStatus': { user: '{authentication.v1.UserInfo}' },
  'authorization.v1.LocalSubjectAccessReview': { metadata: '{meta.ObjectMeta}', spec: '{authorization.v1.SubjectAccessReviewSpec}', status: '{authorization.v1.SubjectAccessReviewStatus}' },
  'authorization.v1.SelfSubjectAccessReview': { metadata: '{meta.ObjectMeta}', spec: '{authorization.v1.SelfSubjectAccessReviewSpec}', status: '{authorization.v1.SubjectAccessReviewStatus}' },
  'authorization.v1.SelfSubjectRulesReview': { metadata: '{meta.ObjectMeta}', spec: '{authorization.v1.SelfSubjectRulesReviewSpec}', status: '{authorization.v1.SubjectRulesReviewStatus}' },
  'authorization.v1.SubjectAccessReview': { metadata: '{meta.ObjectMeta}', spec: '{authorization.v1.SubjectAccessReviewSpec}', status: '{authorization.v1.SubjectAccessReviewStatus}' },
  'authorization.v1.SubjectAccessReviewStatus': { allowed: 'boolean' },
  'authorization.v1.SubjectRulesReviewStatus': { incomplete: 'boolean', nonResourceRules: 'null', resourceRules: 'null' },
  'autoscaling.v1.CrossVersionObjectReference': { kind: 'string', name: 'string' },
  'autoscaling.v1.HorizontalPodAutoscaler': { metadata: '{meta.ObjectMeta}', spec: '{autoscaling.v1.HorizontalPodAutoscalerSpec}', status: '{autoscaling.v1.HorizontalPodAutoscalerStatus}' },
  'autoscaling.v1.HorizontalPodAutoscalerSpec': { maxReplicas: 'number', scaleTargetRef: '{autoscaling.v1.CrossVersionObjectReference}' },
  'autoscaling.v1.HorizontalPodAutoscalerStatus': { currentReplicas: 'number', desiredReplicas: 'number' },
  'autoscaling.v1.Scale': { metadata: '{meta.ObjectMeta}', spec: '{autoscaling.v1.ScaleSpec}', status: '{autoscaling.v1.ScaleStatus}' },
  'autoscaling.v1.ScaleStatus': { replicas: 'number' },
  'autoscaling.v2.CrossVersionObjectReference': { kind: 'string', name: 'string' },
  'autoscaling.v2.HorizontalPodAutoscaler': { metadata: '{meta.ObjectMeta}', spec: '{autoscaling.v2.HorizontalPodAutoscalerSpec}', status: '{autoscaling.v2.HorizontalPodAutoscalerStatus}' },
  'autoscaling.v2.HorizontalPodAutoscalerSpec': { maxReplicas: 'number', scaleTargetRef: '{autoscaling.v2.CrossVersionObjectReference}' },
  'autoscaling.v2.HorizontalPodAutoscalerStatus': { currentMetrics: 'null', desiredReplicas: 'number' },
  'batch.v1.CronJob': { metadata: '{meta.ObjectMeta}', spec: '{batch.v1.CronJobSpec}', status: '{batch.v1.CronJobStatus}' },
  'batch.v1.CronJobSpec': { jobTemplate: '{batch.v1.JobTemplateSpec}', schedule: 'string' },
  'batch.v1.Job': { metadata: '{meta.ObjectMeta}', spec: '{batch.v1.JobSpec}', status: '{batch.v1.JobStatus}' },
  'batch.v1.JobSpec': { template: '{core.v1.PodTemplateSpec}' },
  'batch.v1.JobTemplateSpec': { metadata: '{meta.ObjectMeta}', spec: '{batch.v1.JobSpec}' },
  'certificates.v1.CertificateSigningRequest': { metadata: '{meta.ObjectMeta}', spec: '{certificates.v1.CertificateSigningRequestSpec}', status: '{certificates.v1.CertificateSigningRequestStatus}' },
  'certificates.v1.CertificateSigningRequestSpec': { request: 'null', signerName: 'string' },
  'coordination.v1.Lease': { metadata: '{meta.ObjectMeta}', spec: '{coordination.v1.LeaseSpec}' },
  'core.v1.Binding': { metadata: '{meta.ObjectMeta}', target: '{core.v1.ObjectReference}' },
  'core.v1.ComponentStatus': { metadata: '{meta.ObjectMeta}' },
  'core.v1.ConfigMap': { metadata: '{meta.ObjectMeta}' },
  'core.v1.DaemonEndpoint': { Port: 'number' },
  'core.v1.Endpoints': { metadata: '{meta.ObjectMeta}' },
  'core.v1.Event': { eventTime: 'null', firstTimestamp: 'null', involvedObject: '{core.v1.ObjectReference}', lastTimestamp: 'null', metadata: '{meta.ObjectMeta}', reportingComponent: 'string', reportingInstance: 'string', source: '{core.v1.EventSource}' },
  'core.v1.LimitRange': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.LimitRangeSpec}' },
  'core.v1.LimitRangeSpec': { limits: 'null' },
  'core.v1.Namespace': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.NamespaceSpec}', status: '{core.v1.NamespaceStatus}' },
  'core.v1.Node': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.NodeSpec}', status: '{core.v1.NodeStatus}' },
  'core.v1.NodeDaemonEndpoints': { kubeletEndpoint: '{core.v1.DaemonEndpoint}' },
  'core.v1.NodeStatus': { daemonEndpoints: '{core.v1.NodeDaemonEndpoints}', nodeInfo: '{core.v1.NodeSystemInfo}' },
  'core.v1.NodeSystemInfo': { architecture: 'string', bootID: 'string', containerRuntimeVersion: 'string', kernelVersion: 'string', kubeProxyVersion: 'string', kubeletVersion: 'string', machineID: 'string', operatingSystem: 'string', osImage: 'string', systemUUID: 'string' },
  'core.v1.PersistentVolume': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.PersistentVolumeSpec}', status: '{core.v1.PersistentVolumeStatus}' },
  'core.v1.PersistentVolumeClaim': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.PersistentVolumeClaimSpec}', status: '{core.v1.PersistentVolumeClaimStatus}' },
  'core.v1.PersistentVolumeClaimSpec': { resources: '{core.v1.VolumeResourceRequirements}' },
  'core.v1.Pod': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.PodSpec}', status: '{core.v1.PodStatus}' },
  'core.v1.PodSpec': { containers: 'null' },
  'core.v1.PodTemplate': { metadata: '{meta.ObjectMeta}', template: '{core.v1.PodTemplateSpec}' },
  'core.v1.PodTemplateSpec': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.PodSpec}' },
  'core.v1.ReplicationController': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.ReplicationControllerSpec}', status: '{core.v1.ReplicationControllerStatus}' },
  'core.v1.ReplicationControllerStatus': { replicas: 'number' },
  'core.v1.ResourceQuota': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.ResourceQuotaSpec}', status: '{core.v1.ResourceQuotaStatus}' },
  'core.v1.Secret': { metadata: '{meta.ObjectMeta}' },
  'core.v1.Service': { metadata: '{meta.ObjectMeta}', spec: '{core.v1.ServiceSpec}', status: '{core.v1.ServiceStatus}' },
  'core.v1.ServiceAccount': { metadata: '{meta.ObjectMeta}' },
  'core.v1.ServiceStatus': { loadBalancer: '{core.v1.LoadBalancerStatus}' },
  'discovery.v1.EndpointSlice': { addressType: 'string', endpoints: 'null', metadata: '{meta.ObjectMeta}', ports: 'null' },
  'events.v1.Event': { deprecatedFirstTimestamp: 'null', deprecatedLastTimestamp: 'null', deprecatedSource: '{core.v1.EventSource}', eventTime: 'null', metadata: '{meta.ObjectMeta}', regarding: '{core.v1.ObjectReference}' },
  'flowcontrol.v1.FlowSchema': { metadata: '{meta.ObjectMeta}', spec: '{flowcontrol.v1.FlowSchemaSpec}', status: '{flowcontrol.v1.FlowSchemaStatus}' },
  'flowcontrol.v1.FlowSchemaSpec': { matchingPrecedence: 'number', priorityLevelConfiguration: '{flowcontrol.v1.PriorityLevelConfigurationReference}' },
  'flowcontrol.v1.PriorityLevelConfiguration': { metadata: '{meta.ObjectMeta}', spec: '{flowcontrol.v1.PriorityLevelConfigurationSpec}', status: '{flowcontrol.v1.PriorityLevelConfigurationStatus}' },
  'flowcontrol.v1.PriorityLevelConfigurationReference': { name: 'string' },
  'flowcontrol.v1.PriorityLevelConfigurationSpec': { type: 'string' },
  'networking.v1.IPAddress': { metadata: '{meta.ObjectMeta}', spec: '{networking.v1.IPAddressSpec}' },
  'networking.v1.Ingress': { metadata: '{meta.ObjectMeta}', spec: '{networking.v1.IngressSpec}', status: '{networking.v1.IngressStatus}' },
  'networking.v1.IngressClass': { metadata: '{meta.ObjectMeta}', spec: '{networking.v1.IngressClassSpec}' },
  'networking.v1.IngressStatus': { loadBalancer: '{networking.v1.IngressLoadBalancerStatus}' },
  'networking.v1.NetworkPolicy': { metadata: '{meta.ObjectMeta}', spec: '{networking.v1.NetworkPolicySpec}' },
  'networking.v1.NetworkPolicySpec': { podSelector: '{meta.LabelSelector}' },
  'networking.v1.ServiceCIDR': { metadata: '{meta.ObjectMeta}', spec: '{networking.v1.ServiceCIDRSpec}', status: '{networking.v1.ServiceCIDRStatus}' },
  'node.v1.RuntimeClass': { handler: 'string', metadata: '{meta.ObjectMeta}' },
  'policy.v1.Eviction': { metadata: '{meta.ObjectMeta}' },
  'policy.v1.PodDisruptionBudget': { metadata: '{meta.ObjectMeta}', spec: '{policy.v1.PodDisruptionBudgetSpec}', status: '{policy.v1.PodDisruptionBudgetStatus}' },
  'policy.v1.PodDisruptionBudgetStatus': { currentHealthy: 'number', desiredHealthy: 'number', disruptionsAllowed: 'number', expectedPods: 'number' },
  'rbac.v1.ClusterRole': { metadata: '{meta.ObjectMeta}', rules: 'null' },
  'rbac.v1.ClusterRoleBinding': { metadata: '{meta.ObjectMeta}', roleRef: '{rbac.v1.RoleRef}' },
  'rbac.v1.Role': { metadata: '{meta.ObjectMeta}', rules: 'null' },
  'rbac.v1.RoleBinding': { metadata: '{meta.ObjectMeta}', roleRef: '{rbac.v1.RoleRef}' },
  'rbac.v1.RoleRef': { apiGroup: 'string', kind: 'string', name: 'string' },
  'resource.v1.DeviceClaim': { requests: 'null' },
  'resource.v1.DeviceClass': { metadata: '{meta.ObjectMeta}', spec: '{resource.v1.DeviceClassSpec}' },
  'resource.v1.ResourceClaim': { metadata: '{meta.ObjectMeta}', spec: '{resource.v1.ResourceClaimSpec}', status: '{resource.v1.ResourceClaimStatus}' },
  'resource.v1.ResourceClaimSpec': { devices: '{resource.v1.DeviceClaim}' },
  'resource.v1.ResourceClaimTemplate': { metadata: '{meta.ObjectMeta}', spec: '{resource.v1.ResourceClaimTemplateSpec}' },
  'resource.v1.ResourceClaimTemplateSpec': { metadata: '{meta.ObjectMeta}', spec: '{resource.v1.ResourceClaimSpec}' },
  'resource.v1.ResourcePool': { generation: 'number', name: 'string', resourceSliceCount: 'number' },
  'resource.v1.ResourceSlice': { metadata: '{meta.ObjectMeta}', spec: '{resource.v1.ResourceSliceSpec}' },
  'resource.v1.ResourceSliceSpec': { driver: 'string', pool: '{resource.v1.ResourcePool}' },
  'scheduling.v1.PriorityClass': { metadata: '{meta.ObjectMeta}', value: 'number' },
  'storage.v1.CSIDriver': { metadata: '{meta.ObjectMeta}', spec: '{storage.v1.CSIDriverSpec}' },
  'storage.v1.CSINode': { metadata: '{meta.ObjectMeta}', spec: '{storage.v1.CSINodeSpec}' },
  'storage.v1.CSINodeSpec': { drivers: 'null' },
  'storage.v1.CSIStorageCapacity': { metadata: '{meta.ObjectMeta}', storageClassName: 'string' },
  'storage.v1.StorageClass': { metadata: '{meta.ObjectMeta}', provisioner: 'string' },
  'storage.v1.VolumeAttachment': { metadata: '{meta.ObjectMeta}', spec: '{storage.v1.VolumeAttachmentSpec}', status: '{storage.v1.VolumeAttachmentStatus}' },
  'storage.v1.VolumeAttachmentSpec': { attacher: 'string', nodeName: 'string', source: '{storage.v1.VolumeAttachmentSource}' },
  'storage.v1.VolumeAttachmentStatus': { attached: 'boolean' },
  'storage.v1.VolumeAttributesClass': { driverName: 'string', metadata: '{meta.ObjectMeta}' },
  'meta.APIGroup': { name: 'string', preferredVersion: '{meta.GroupVersionForDiscovery}', versions: 'null' },
  'meta.APIVersions': { serverAddressByClientCIDRs: 'null', versions: 'null' },
  'meta.GroupVersionForDiscovery': { groupVersion: 'string', version: 'string' },
  'meta.ObjectMeta': { creationTimestamp: 'null' },
  'meta.Status': { metadata: '{meta.ListMeta}' },
};

function abbreviate(definition: string): string {
  return definition.replace(/^io\.k8s\.api\./, '').replace(/^io\.k8s\.apimachinery\.pkg\.apis\.meta\.v1\./, 'meta.');
}

function zeroOf(kind: ZeroKind): unknown {
  if (kind.startsWith('{')) return zeroStruct(kind.slice(1, -1));
  switch (kind) {
    case 'string':
      return '';
    case 'number':
      return 0;
    case 'boolean':
      return false;
    default:
      return null;
  }
}

function zeroStruct(abbreviated: string): Record<string, unknown> {
  const fields = ZERO_FIELDS[abbreviated] ?? {};
  return Object.fromEntries(Object.entries(fields).map(([field, kind]) => [field, zeroOf(kind)]));
}

/** The empty object of a built-in kind (upstream's `New(kind)`), without apiVersion and kind. */
export function zeroObject(definition: string | undefined): Record<string, unknown> {
  return definition ? zeroStruct(abbreviate(definition)) : {};
}

/** `object` with the zero values of absent struct fields filled in, as a Go object would carry them. */
export function withZeroFields(definition: string | undefined, object: Record<string, unknown>): Record<string, unknown> {
  return definition ? fill(abbreviate(definition), object) : object;
}

function fill(abbreviated: string, object: Record<string, unknown>): Record<string, unknown> {
  const fields = ZERO_FIELDS[abbreviated];
  if (!fields) return object;
  const out: Record<string, unknown> = { ...object };
  for (const [field, kind] of Object.entries(fields)) {
    const value = out[field];
    if (value === undefined) out[field] = zeroOf(kind);
    else if (kind.startsWith('{') && isObject(value)) out[field] = fill(kind.slice(1, -1), value);
  }
  return out;
}
