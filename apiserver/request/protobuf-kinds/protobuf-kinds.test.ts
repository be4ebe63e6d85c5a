import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { builtinProtobufKinds, decodeProtobufObject } from '../protobuf.js';
import { moreProtobufKinds } from './index.js';

const decode = (body: Buffer): Record<string, unknown> => decodeProtobufObject(body, moreProtobufKinds);

// ---- a tiny encoder, enough to build the bodies client-go sends ---------------------------------------

function varint(value: number | bigint): Buffer {
  let remaining = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(remaining & 0x7fn);
    remaining >>= 7n;
    bytes.push(remaining > 0n ? low | 0x80 : low);
  } while (remaining > 0n);
  return Buffer.from(bytes);
}

const tag = (field: number, wireType: number): Buffer => varint((field << 3) | wireType);
const int = (field: number, value: number | bigint): Buffer => Buffer.concat([tag(field, 0), varint(value)]);
const bool = (field: number, value: boolean): Buffer => int(field, value ? 1 : 0);
const bytes = (field: number, payload: Buffer): Buffer => Buffer.concat([tag(field, 2), varint(payload.length), payload]);
const str = (field: number, text: string): Buffer => bytes(field, Buffer.from(text, 'utf8'));
const msg = (field: number, ...parts: Buffer[]): Buffer => bytes(field, Buffer.concat(parts));
const entry = (field: number, key: string, value: string): Buffer => msg(field, str(1, key), str(2, value));
/** A map<string, resource.Quantity> entry: the value is the message {1: string}. */
const quantity = (field: number, key: string, value: string): Buffer => msg(field, str(1, key), msg(2, str(1, value)));
/** intstr.IntOrString {1: type, 2: intVal, 3: strVal}, written whole as Go does. */
const intOrString = (field: number, value: number | string): Buffer =>
  typeof value === 'number' ? msg(field, int(1, 0), int(2, value), str(3, '')) : msg(field, int(1, 1), int(2, 0), str(3, value));

function envelope(apiVersion: string, kind: string, ...objectFields: Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    msg(1, str(1, apiVersion), str(2, kind)),
    msg(2, ...objectFields),
    str(3, ''),
    str(4, ''),
  ]);
}

/** ObjectMeta the way Go writes it: every non-pointer scalar present, even when empty. */
function goObjectMeta(name: string, ...extra: Buffer[]): Buffer {
  return msg(1, str(1, name), str(2, ''), str(3, ''), str(4, ''), str(5, ''), str(6, ''), int(7, 0), msg(8), ...extra);
}

// ---- bodies captured from kubectl 1.32 ------------------------------------------------------------
//
// Each body is what `kubectl.1.32 <command>` POSTed to a recording HTTPS server. Each `expected` equals
// `kubectl <command> --dry-run=client -o json` except where the decoder's rules differ from Go's JSON:
// null creationTimestamps and zero-valued non-pointer scalars (RoleRef.apiGroup "", the PDB status
// counters 0) are omitted.

interface Capture {
  command: string;
  path: string;
  hex: string;
  expected: Record<string, unknown>;
}

const captures: Capture[] = [
  {
    command: "kubectl create deployment web --image=nginx --replicas=2 --port=80",
    path: '/apis/apps/v1/namespaces/default/deployments',
    hex:
      '6b3873000a150a07617070732f7631120a4465706c6f796d656e7412b8010a1f0a0377656212001a0022002a00320038' +
      '0042005a0a0a0361707012037765621286010802120c0a0a0a0361707012037765621a6c0a1c0a0012001a0022002a00' +
      '3200380042005a0a0a036170701203776562124c122e0a056e67696e7812056e67696e782a00320a0a00100018502200' +
      '2a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a0100c20100' +
      '22020a00280038001a0c0800100018002000280038001a002200',
    expected: {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx","ports":[{"containerPort":80}],"resources":{}}]}},"strategy":{}},"status":{}},
  },
  {
    command: "kubectl create job pi --image=busybox -- echo hi",
    path: '/apis/batch/v1/namespaces/default/jobs',
    hex:
      '6b3873000a0f0a0862617463682f763112034a6f621284010a120a02706912001a0022002a0032003800420012643262' +
      '0a100a0012001a0022002a00320038004200124e122b0a027069120762757379626f781a046563686f1a0268692a0042' +
      '006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c2' +
      '01001a082000280030003a001a002200',
    expected: {"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"pi"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"pi","image":"busybox","command":["echo","hi"],"resources":{}}],"restartPolicy":"Never"}}},"status":{}},
  },
  {
    command: "kubectl create cronjob cj --image=busybox --schedule='*/1 * * * *' -- date",
    path: '/apis/batch/v1/namespaces/default/cronjobs',
    hex:
      '6b3873000a130a0862617463682f7631120743726f6e4a6f6212a4010a120a02636a12001a0022002a00320038004200' +
      '128b010a0b2a2f31202a202a202a202a1a002a7a0a120a02636a12001a0022002a00320038004200126432620a100a00' +
      '12001a0022002a00320038004200124e12270a02636a120762757379626f781a04646174652a0042006a007200800100' +
      '880100900100a201001a094f6e4661696c757265320042004a0052005800600068008201008a01009a0100c201001a00' +
      '1a002200',
    expected: {"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"cj"},"spec":{"schedule":"*/1 * * * *","jobTemplate":{"metadata":{"name":"cj"},"spec":{"template":{"metadata":{},"spec":{"containers":[{"name":"cj","image":"busybox","command":["date"],"resources":{}}],"restartPolicy":"OnFailure"}}}}},"status":{}},
  },
  {
    command: "kubectl create role r --verb=get --verb=list --resource=pods --resource-name=a",
    path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles',
    hex:
      '6b3873000a240a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311204526f6c65122b0a110a01' +
      '7212001a0022002a0032003800420012160a036765740a046c69737412001a04706f64732201611a002200',
    expected: {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"},"rules":[{"verbs":["get","list"],"apiGroups":[""],"resources":["pods"],"resourceNames":["a"]}]},
  },
  {
    command: "kubectl create rolebinding rb --role=r --user=u --serviceaccount=default:sa",
    path: '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e' +
      '671283010a120a02726212001a0022002a0032003800420012260a04557365721219726261632e617574686f72697a61' +
      '74696f6e2e6b38732e696f1a01752200121f0a0e536572766963654163636f756e7412001a027361220764656661756c' +
      '741a240a19726261632e617574686f72697a6174696f6e2e6b38732e696f1204526f6c651a01721a002200',
    expected: {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"rb"},"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"u"},{"kind":"ServiceAccount","name":"sa","namespace":"default"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"}},
  },
  {
    command: "kubectl create clusterrole cr --verb=get --non-resource-url=/logs/*",
    path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c' +
      '6512240a120a02637212001a0022002a00320038004200120e0a036765742a072f6c6f67732f2a1a002200',
    expected: {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"cr"},"rules":[{"verbs":["get"],"nonResourceURLs":["/logs/*"]}]},
  },
  {
    command: "kubectl create clusterrole agg --aggregation-rule=a=b",
    path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    hex:
      '6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c' +
      '6512210a130a0361676712001a0022002a003200380042001a0a0a080a060a01611201621a002200',
    expected: {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"a":"b"}}]}},
  },
  {
    command: "kubectl create clusterrolebinding crb --clusterrole=c --group=g",
    path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
    hex:
      '6b3873000a320a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f76311212436c7573746572526f6c' +
      '6542696e64696e67126b0a130a0363726212001a0022002a0032003800420012270a0547726f75701219726261632e61' +
      '7574686f72697a6174696f6e2e6b38732e696f1a016722001a2b0a19726261632e617574686f72697a6174696f6e2e6b' +
      '38732e696f120b436c7573746572526f6c651a01631a002200',
    expected: {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"crb"},"subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"g"}],"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"c"}},
  },
  {
    command: "kubectl create quota q --hard=pods=2,requests.cpu=500m --scopes=BestEffort",
    path: '/api/v1/namespaces/default/resourcequotas',
    hex:
      '6b3873000a130a027631120d5265736f7572636551756f746112480a110a017112001a0022002a003200380042001231' +
      '0a0b0a04706f647312030a01320a160a0c72657175657374732e63707512060a043530306d120a426573744566666f72' +
      '741a001a002200',
    expected: {"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},"spec":{"hard":{"pods":"2","requests.cpu":"500m"},"scopes":["BestEffort"]},"status":{}},
  },
  {
    command: "kubectl create priorityclass p --value=10 --description=hi --preemption-policy=Never",
    path: '/apis/scheduling.k8s.io/v1/priorityclasses',
    hex:
      '6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c61737312220a110a' +
      '017012001a0022002a00320038004200100a1800220268692a054e657665721a002200',
    expected: {"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"p"},"value":10,"description":"hi","preemptionPolicy":"Never"},
  },
  {
    command: "kubectl create pdb p --selector=a=b --min-available=1",
    path: '/apis/policy/v1/namespaces/default/poddisruptionbudgets',
    hex:
      '6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e42756467657412330a110a017012001a' +
      '0022002a0032003800420012120a06080010011a0012080a060a01611201621a0a080018002000280030001a002200',
    expected: {"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"p"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"a":"b"}}},"status":{}},
  },
  {
    command: "kubectl create pdb p2 --selector=a=b --max-unavailable=50%",
    path: '/apis/policy/v1/namespaces/default/poddisruptionbudgets',
    hex:
      '6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e42756467657412370a120a0270321200' +
      '1a0022002a00320038004200121512080a060a01611201621a09080110001a033530251a0a080018002000280030001a' +
      '002200',
    expected: {"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"p2"},"spec":{"selector":{"matchLabels":{"a":"b"}},"maxUnavailable":"50%"},"status":{}},
  },
  {
    command: "kubectl create ingress i --rule=host/path=svc:80 --rule=secure.example.com/*=svc2:http,tls=my-cert --class=nginx",
    path: '/apis/networking.k8s.io/v1/namespaces/default/ingresses',
    hex:
      '6b3873000a1f0a146e6574776f726b696e672e6b38732e696f2f76311207496e677265737312a6010a110a016912001a' +
      '0022002a00320038004200128c01121d0a127365637572652e6578616d706c652e636f6d12076d792d636572741a290a' +
      '04686f737412210a1f0a1d0a052f70617468120d220b0a0373766312040a0010501a0545786163741a390a1273656375' +
      '72652e6578616d706c652e636f6d12230a210a1f0a012f121222100a047376633212080a046874747010001a06507265' +
      '66697822056e67696e781a020a001a002200',
    expected: {"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"i"},"spec":{"tls":[{"hosts":["secure.example.com"],"secretName":"my-cert"}],"rules":[{"host":"host","http":{"paths":[{"path":"/path","backend":{"service":{"name":"svc","port":{"number":80}}},"pathType":"Exact"}]}},{"host":"secure.example.com","http":{"paths":[{"path":"/","backend":{"service":{"name":"svc2","port":{"name":"http"}}},"pathType":"Prefix"}]}}],"ingressClassName":"nginx"},"status":{"loadBalancer":{}}},
  },
];

describe('moreProtobufKinds: bodies captured from kubectl 1.32', () => {
  for (const capture of captures) {
    it(`decodes \`${capture.command}\``, () => {
      assert.deepEqual(decode(Buffer.from(capture.hex, 'hex')), capture.expected);
    });
  }
});

describe('moreProtobufKinds: hand-encoded bodies', () => {
  it('decodes a Deployment with a rolling update strategy and a detailed pod template', () => {
    const container = msg(
      2,
      str(1, 'app'),
      str(2, 'registry.example/app:1.2'),
      str(3, '/bin/app'),
      str(4, '--port=8080'),
      str(4, ''),
      str(5, ''),
      msg(6, str(1, 'http'), int(2, 0), int(3, 8080), str(4, 'TCP'), str(5, '')),
      msg(7, str(1, 'MODE'), str(2, 'prod')),
      msg(7, str(1, 'TOKEN'), str(2, ''), msg(3, msg(4, msg(1, str(1, 'creds')), str(2, 'token'), bool(3, false)))),
      msg(7, str(1, 'POD'), str(2, ''), msg(3, msg(1, str(1, 'v1'), str(2, 'metadata.name')))),
      msg(8, quantity(1, 'cpu', '500m'), quantity(1, 'memory', '128Mi'), quantity(2, 'cpu', '250m')),
      msg(9, str(1, 'data'), bool(2, true), str(3, '/data'), str(4, ''), str(6, '')),
      str(13, '/dev/termination-log'),
      str(14, 'IfNotPresent'),
      msg(15, bool(2, false), msg(1, str(2, 'ALL'))),
      bool(16, false),
      bool(17, false),
      bool(18, false),
      msg(19, str(1, 'CFG_'), msg(2, msg(1, str(1, 'settings')))),
      str(20, 'File'),
    );
    const podSpec = msg(
      2,
      msg(1, str(1, 'data')), // volumes are not in the table: skipped
      container,
      str(3, 'Always'),
      int(4, 30),
      str(6, 'ClusterFirst'),
      entry(7, 'disk', 'ssd'),
      str(8, 'runner'),
      str(9, ''),
      str(10, ''),
      bool(11, false),
      bool(12, false),
      bool(13, false),
      msg(14),
      str(16, ''),
      str(17, ''),
      str(19, 'default-scheduler'),
      msg(22, str(1, 'dedicated'), str(2, 'Equal'), str(3, 'web'), str(4, 'NoSchedule')),
      str(24, ''),
      bool(30, false),
    );
    const body = envelope(
      'apps/v1',
      'Deployment',
      goObjectMeta('web', str(3, 'prod'), entry(11, 'app', 'web')),
      msg(
        2,
        int(1, 3),
        msg(2, entry(1, 'app', 'web'), msg(2, str(1, 'tier'), str(2, 'In'), str(3, 'front'), str(3, 'edge'))),
        msg(3, goObjectMeta('', entry(11, 'app', 'web')), podSpec),
        msg(4, str(1, 'RollingUpdate'), msg(2, intOrString(1, 0), intOrString(2, '25%'))),
        int(5, 0),
        int(6, 10),
        bool(7, false),
        int(9, 600),
      ),
      msg(3, int(1, 0), int(2, 0), int(3, 0), int(4, 0), int(5, 0), int(7, 0)),
    );
    assert.deepEqual(decode(body), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'prod', labels: { app: 'web' } },
      spec: {
        replicas: 3,
        selector: {
          matchLabels: { app: 'web' },
          matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }],
        },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'registry.example/app:1.2',
                command: ['/bin/app'],
                args: ['--port=8080', ''],
                ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
                env: [
                  { name: 'MODE', value: 'prod' },
                  { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token', optional: false } } },
                  { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                ],
                resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } },
                volumeMounts: [{ name: 'data', readOnly: true, mountPath: '/data' }],
                terminationMessagePath: '/dev/termination-log',
                imagePullPolicy: 'IfNotPresent',
                securityContext: { capabilities: { drop: ['ALL'] }, privileged: false },
                envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'settings' } }],
                terminationMessagePolicy: 'File',
              },
            ],
            restartPolicy: 'Always',
            terminationGracePeriodSeconds: 30,
            dnsPolicy: 'ClusterFirst',
            nodeSelector: { disk: 'ssd' },
            serviceAccountName: 'runner',
            securityContext: {},
            schedulerName: 'default-scheduler',
            tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
            enableServiceLinks: false,
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: {},
    });
  });

  it('keeps pointer zero values of a CronJob (suspend=false, startingDeadlineSeconds=0)', () => {
    const body = envelope(
      'batch/v1',
      'CronJob',
      goObjectMeta('nightly'),
      msg(
        2,
        str(1, '0 3 * * *'),
        int(2, 0),
        str(3, 'Forbid'),
        bool(4, false),
        msg(5, goObjectMeta(''), msg(2, int(1, 1), int(7, 0), msg(6, goObjectMeta(''), msg(2, str(3, 'OnFailure'))))),
        int(6, 3),
        int(7, 1),
        str(8, 'Etc/UTC'),
      ),
      msg(3),
    );
    assert.deepEqual(decode(body), {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly' },
      spec: {
        schedule: '0 3 * * *',
        startingDeadlineSeconds: 0,
        concurrencyPolicy: 'Forbid',
        suspend: false,
        jobTemplate: {
          metadata: {},
          spec: { parallelism: 1, backoffLimit: 0, template: { metadata: {}, spec: { restartPolicy: 'OnFailure' } } },
        },
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        timeZone: 'Etc/UTC',
      },
      status: {},
    });
  });

  it('decodes a ClusterRole aggregation rule with match expressions', () => {
    const body = envelope(
      'rbac.authorization.k8s.io/v1',
      'ClusterRole',
      goObjectMeta('monitoring'),
      msg(2, str(1, 'get'), str(2, ''), str(3, 'pods'), str(3, 'pods/log')),
      msg(3, msg(1, msg(2, str(1, 'rbac.example.com/aggregate-to-monitoring'), str(2, 'Exists')))),
    );
    assert.deepEqual(decode(body), {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'monitoring' },
      rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods', 'pods/log'] }],
      aggregationRule: {
        clusterRoleSelectors: [{ matchExpressions: [{ key: 'rbac.example.com/aggregate-to-monitoring', operator: 'Exists' }] }],
      },
    });
  });

  it('decodes an Ingress default backend that points at a resource, keeping an empty apiGroup pointer', () => {
    const body = envelope(
      'networking.k8s.io/v1',
      'Ingress',
      goObjectMeta('static'),
      msg(2, msg(1, msg(3, str(1, ''), str(2, 'StorageBucket'), str(3, 'assets'))), msg(3, str(1, 'a.example'), msg(2))),
      msg(3, msg(1)),
    );
    assert.deepEqual(decode(body), {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'static' },
      spec: {
        defaultBackend: { resource: { apiGroup: '', kind: 'StorageBucket', name: 'assets' } },
        rules: [{ host: 'a.example' }],
      },
      status: { loadBalancer: {} },
    });
  });

  it('decodes the HorizontalPodAutoscaler `kubectl autoscale` sends (pointer fields kept, zero status counters dropped)', () => {
    const body = envelope(
      'autoscaling/v1',
      'HorizontalPodAutoscaler',
      goObjectMeta('web'),
      msg(2, msg(1, str(1, 'Deployment'), str(2, 'web'), str(3, 'apps/v1')), int(2, 1), int(3, 3), int(4, 50)),
      msg(3, int(3, 0), int(4, 0)),
    );
    assert.deepEqual(decode(body), {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' }, minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 50 },
      status: {},
    });
  });

  it('decodes an autoscaling/v2 HorizontalPodAutoscaler with quantities, behavior and statuses', () => {
    const cpuTarget = msg(2, str(1, 'Utilization'), int(4, 50));
    const memoryTarget = msg(2, str(1, 'AverageValue'), msg(3, str(1, '500Mi')));
    const body = envelope(
      'autoscaling/v2',
      'HorizontalPodAutoscaler',
      goObjectMeta('web'),
      msg(
        2,
        msg(1, str(1, 'Deployment'), str(2, 'web'), str(3, 'apps/v1')),
        int(2, 1),
        int(3, 3),
        msg(4, str(1, 'Resource'), msg(4, str(1, 'cpu'), cpuTarget)),
        msg(4, str(1, 'Resource'), msg(4, str(1, 'memory'), memoryTarget)),
        msg(4, str(1, 'External'), msg(5, msg(1, str(1, 'queue')), msg(2, str(1, 'Value'), msg(2, str(1, '30'))))),
        msg(5, msg(2, int(3, 120), str(1, 'Min'), msg(2, str(1, 'Percent'), int(2, 10), int(3, 60)))),
      ),
      msg(3, int(3, 2), int(4, 3), msg(5, str(1, 'Resource'), msg(4, str(1, 'cpu'), msg(2, msg(2, str(1, '120m')), int(3, 42))))),
    );
    assert.deepEqual(decode(body), {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' },
        minReplicas: 1,
        maxReplicas: 3,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
          { type: 'External', external: { metric: { name: 'queue' }, target: { type: 'Value', value: '30' } } },
        ],
        behavior: { scaleDown: { selectPolicy: 'Min', policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }], stabilizationWindowSeconds: 120 } },
      },
      status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '120m', averageUtilization: 42 } } }] },
    });
  });

  it('decodes a ResourceQuota with a scope selector', () => {
    const body = envelope(
      'v1',
      'ResourceQuota',
      goObjectMeta('compute'),
      msg(
        2,
        quantity(1, 'limits.memory', '2Gi'),
        msg(3, msg(1, str(1, 'PriorityClass'), str(2, 'In'), str(3, 'high'))),
      ),
      msg(3),
    );
    assert.deepEqual(decode(body), {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'compute' },
      spec: {
        hard: { 'limits.memory': '2Gi' },
        scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }] },
      },
      status: {},
    });
  });
});

describe('moreProtobufKinds table', () => {
  it('covers every kind `kubectl create` can send beyond the core set', () => {
    const kinds = Object.entries(moreProtobufKinds).flatMap(([apiVersion, byKind]) =>
      Object.keys(byKind).map((kind) => `${apiVersion}/${kind}`),
    );
    assert.deepEqual(kinds.sort(), [
      'apps/v1/Deployment',
      'autoscaling/v1/HorizontalPodAutoscaler',
      'autoscaling/v2/HorizontalPodAutoscaler',
      'batch/v1/CronJob',
      'batch/v1/Job',
      'networking.k8s.io/v1/Ingress',
      'policy/v1/PodDisruptionBudget',
      'rbac.authorization.k8s.io/v1/ClusterRole',
      'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
      'rbac.authorization.k8s.io/v1/Role',
      'rbac.authorization.k8s.io/v1/RoleBinding',
      'scheduling.k8s.io/v1/PriorityClass',
      'v1/ResourceQuota',
    ]);
  });

  it('is merged into builtinProtobufKinds without displacing the core v1 kinds', () => {
    for (const [apiVersion, byKind] of Object.entries(moreProtobufKinds)) {
      for (const [kind, spec] of Object.entries(byKind)) {
        assert.equal(builtinProtobufKinds[apiVersion]?.[kind], spec, `${apiVersion} ${kind}`);
      }
    }
    for (const kind of ['Namespace', 'ConfigMap', 'Secret', 'ServiceAccount', 'Service']) {
      assert.ok(builtinProtobufKinds.v1[kind], kind);
    }
  });
});
