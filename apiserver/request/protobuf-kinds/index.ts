// Protobuf tables for the other kinds `kubectl create <subcommand>` can POST (role, rolebinding,
// clusterrole, clusterrolebinding, deployment, job, cronjob, quota, priorityclass, pdb, ingress) and
// `kubectl autoscale`'s HorizontalPodAutoscaler; core v1
// and the reviews live in core-v1.ts and reviews.ts. ../protobuf.ts merges them into builtinProtobufKinds.

import type { ProtobufKindTable } from '../protobuf.js';
import { appsKinds } from './apps.js';
import { autoscalingKinds } from './autoscaling.js';
import { batchKinds } from './batch.js';
import { coreKinds } from './core.js';
import { networkingKinds } from './networking.js';
import { policyKinds } from './policy.js';
import { rbacKinds } from './rbac.js';
import { schedulingKinds } from './scheduling.js';

/** apiVersion → kind → message. `v1` holds only the kinds added here; merge it with the core `v1` entry. */
export const moreProtobufKinds: ProtobufKindTable = {
  ...rbacKinds,
  ...appsKinds,
  ...autoscalingKinds,
  ...batchKinds,
  ...coreKinds,
  ...policyKinds,
  ...schedulingKinds,
  ...networkingKinds,
};
