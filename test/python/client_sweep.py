"""The official Python client (python3-kubernetes) against a running cluster, asserting what it gets back is
what it would get from kube-apiserver 1.32. Run by test/python-client.test.ts: python3 client_sweep.py KUBECONFIG.
Prints one line per check (PASS/FAIL) and exits 1 when any check fails."""

import json
import sys
import tempfile
import threading
import time
import traceback

from kubernetes import client, config, dynamic, utils, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(sys.argv[1])
api = client.ApiClient()
core = client.CoreV1Api()
apps = client.AppsV1Api()
batch = client.BatchV1Api()
custom = client.CustomObjectsApi()
extensions = client.ApiextensionsV1Api()
Meta = client.V1ObjectMeta
NS = 'py-sweep'
failures = []


def check(name):
    def run(fn):
        started = time.time()
        try:
            fn()
            print(f'PASS {name} ({time.time() - started:.1f} s)', flush=True)
        except Exception as error:  # every failure is reported, the sweep goes on
            detail = f'{type(error).__name__}: {error}'
            if isinstance(error, ApiException):
                detail = f'ApiException {error.status} {error.reason}: {error.body}'
            failures.append(name)
            print(f'FAIL {name}: {detail}'.replace('\n', ' ')[:1500], flush=True)
            traceback.print_exc(limit=4, file=sys.stdout)
        return fn
    return run


def raw(method, path, body=None, query=None, content_type='application/json', accept='application/json'):
    """A request through the client's own transport; answers (status, decoded JSON or text)."""
    response = api.call_api(path, method, query_params=query or [], header_params={'Accept': accept, 'Content-Type': content_type},
                            body=body, auth_settings=['BearerToken'], _preload_content=False, _return_http_data_only=False)
    text = response[0].data.decode()
    try:
        return response[1], json.loads(text)
    except ValueError:
        return response[1], text


def api_error(fn):
    try:
        fn()
    except ApiException as error:
        return error.status, json.loads(error.body)
    raise AssertionError('expected an ApiException')


def equal(actual, expected, what=''):
    assert actual == expected, f'{what}: expected {expected!r}, got {actual!r}'


def config_map(name, **meta):
    return client.V1ConfigMap(metadata=Meta(name=name, **meta), data={'k': 'v'})


def pod_spec():
    return client.V1PodSpec(containers=[client.V1Container(name='c', image='nginx')])


core.create_namespace(client.V1Namespace(metadata=Meta(name=NS)))


@check('configmaps: create, read, strategic/merge/JSON patch, replace')
def _():
    created = core.create_namespaced_config_map(NS, config_map('c1', labels={'app': 'sweep'}))
    equal(created.metadata.namespace, NS, 'namespace')
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    equal(core.read_namespaced_config_map('c1', NS).data, {'k': 'v'}, 'read')
    equal(core.patch_namespaced_config_map('c1', NS, {'data': {'s': '1'}}).data, {'k': 'v', 's': '1'}, 'strategic merge patch')
    equal(core.patch_namespaced_config_map('c1', NS, [{'op': 'add', 'path': '/data/j', 'value': '2'}]).data, {'k': 'v', 's': '1', 'j': '2'}, 'json patch')
    current = core.read_namespaced_config_map('c1', NS)
    current.data = {'only': 'this'}
    replaced = core.replace_namespaced_config_map('c1', NS, current)
    equal(replaced.data, {'only': 'this'}, 'replace')
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)


@check('delete of a kind without ReturnDeletedObject answers a Success Status naming the resource')
def _():
    created = core.create_namespaced_config_map(NS, config_map('gone'))
    status = core.delete_namespaced_config_map('gone', NS)
    equal((status.kind, status.api_version, status.status), ('Status', 'v1', 'Success'))
    equal((status.details.name, status.details.kind, status.details.group, status.details.uid), ('gone', 'configmaps', None, created.metadata.uid))
    core.create_namespaced_config_map(NS, config_map('gone2'))
    code, body = raw('DELETE', f'/api/v1/namespaces/{NS}/configmaps/gone2')
    equal(code, 200)
    equal(sorted(body), ['apiVersion', 'details', 'kind', 'metadata', 'status'], 'Status fields')
    equal(body['metadata'], {}, 'metadata')


@check('delete of a kind with ReturnDeletedObject (pods, services, storage classes, …) answers the object')
def _():
    core.create_namespaced_pod(NS, client.V1Pod(metadata=Meta(name='p-del'), spec=pod_spec()))
    code, body = raw('DELETE', f'/api/v1/namespaces/{NS}/pods/p-del', body={'gracePeriodSeconds': 0})
    equal((code, body['kind'], body['metadata']['name']), (200, 'Pod', 'p-del'))
    core.create_namespaced_service(NS, client.V1Service(metadata=Meta(name='s-del'), spec=client.V1ServiceSpec(ports=[client.V1ServicePort(port=80)])))
    code, body = raw('DELETE', f'/api/v1/namespaces/{NS}/services/s-del')
    equal((code, body['kind']), (200, 'Service'))
    storage = client.StorageV1Api()
    storage.create_storage_class(client.V1StorageClass(metadata=Meta(name='py-sweep-sc'), provisioner='example.com/p'))
    deleted = storage.delete_storage_class('py-sweep-sc')
    equal((type(deleted).__name__, deleted.metadata.name), ('V1StorageClass', 'py-sweep-sc'))


@check('a delete that leaves the object (finalizers, foreground propagation) answers the object')
def _():
    core.create_namespaced_config_map(NS, config_map('kept', finalizers=['example.com/keep']))
    code, body = raw('DELETE', f'/api/v1/namespaces/{NS}/configmaps/kept')
    equal((code, body['kind']), (200, 'ConfigMap'))
    assert body['metadata']['deletionTimestamp'], body
    core.patch_namespaced_config_map('kept', NS, {'metadata': {'finalizers': None}})
    core.create_namespaced_config_map(NS, config_map('fg'))
    code, body = raw('DELETE', f'/api/v1/namespaces/{NS}/configmaps/fg', body={'propagationPolicy': 'Foreground'})
    equal((code, body['kind'], body['metadata']['finalizers']), (200, 'ConfigMap', ['foregroundDeletion']))


@check('delete options as keyword arguments: dry_run, propagation_policy, grace_period_seconds, preconditions')
def _():
    created = core.create_namespaced_config_map(NS, config_map('opts'))
    status = core.delete_namespaced_config_map('opts', NS, dry_run='All')
    equal(status.status, 'Success', 'dry run')
    core.read_namespaced_config_map('opts', NS)  # still there
    code, body = api_error(lambda: core.delete_namespaced_config_map('opts', NS, body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid='other'))))
    equal((code, body['reason']), (409, 'Conflict'))
    equal(body['message'], f'Operation cannot be fulfilled on ConfigMap "opts": the UID in the precondition (other) does not match the UID in record ({created.metadata.uid}). The object might have been deleted and then recreated')
    equal(body['details'], {'name': 'opts', 'kind': 'ConfigMap'})
    status = core.delete_namespaced_config_map('opts', NS, propagation_policy='Background', grace_period_seconds=0,
                                               body=client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=created.metadata.uid)))
    equal(status.details.name, 'opts')


@check('deletecollection answers the list of what it deleted')
def _():
    for index in range(3):
        core.create_namespaced_config_map(NS, config_map(f'dc{index}', labels={'batch': 'dc'}))
    code, body = raw('DELETE', f'/api/v1/namespaces/{NS}/configmaps', query=[('labelSelector', 'batch=dc')])
    equal((code, body['kind']), (200, 'ConfigMapList'))
    equal(sorted(item['metadata']['name'] for item in body['items']), ['dc0', 'dc1', 'dc2'])
    equal(core.list_namespaced_config_map(NS, label_selector='batch=dc').items, [], 'after')


@check('errors: ApiException.body is a Status with upstream reason and message')
def _():
    code, body = api_error(lambda: core.read_namespaced_config_map('missing', NS))
    equal((code, body['kind'], body['status'], body['reason'], body['code']), (404, 'Status', 'Failure', 'NotFound', 404))
    equal(body['message'], 'configmaps "missing" not found')
    equal(body['details'], {'name': 'missing', 'kind': 'configmaps'})
    code, body = api_error(lambda: core.create_namespaced_config_map(NS, config_map('c1')))
    equal((code, body['reason'], body['message']), (409, 'AlreadyExists', 'configmaps "c1" already exists'))
    code, body = api_error(lambda: core.create_namespaced_config_map(NS, config_map('Bad_Name')))
    equal((code, body['reason']), (422, 'Invalid'))
    assert body['message'].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'), body['message']
    equal(body['details']['causes'][0]['field'], 'metadata.name')
    code, body = api_error(lambda: apps.read_namespaced_deployment('missing', NS))
    equal((body['message'], body['details']), ('deployments.apps "missing" not found', {'name': 'missing', 'group': 'apps', 'kind': 'deployments'}))
    code, body = api_error(lambda: core.create_namespaced_config_map('no-such-namespace', config_map('x')))
    equal((code, body['message']), (404, 'namespaces "no-such-namespace" not found'))


@check('lists: limit/_continue pagination, label and field selectors, resource_version_match, _request_timeout')
def _():
    for index in range(5):
        core.create_namespaced_config_map(NS, config_map(f'page{index}', labels={'page': 'yes'}))
    names, token, pages = [], None, 0
    while True:
        listed = core.list_namespaced_config_map(NS, label_selector='page=yes', limit=2, _continue=token, _request_timeout=30)
        pages += 1
        names += [item.metadata.name for item in listed.items]
        # Upstream counts the remaining items only for lists without selectors.
        equal(listed.metadata.remaining_item_count, None, 'remainingItemCount with a selector')
        token = listed.metadata._continue
        if not token:
            break
    equal((pages, names), (3, [f'page{index}' for index in range(5)]))
    total = len(core.list_namespaced_config_map(NS).items)
    equal(core.list_namespaced_config_map(NS, limit=1).metadata.remaining_item_count, total - 1, 'remainingItemCount')
    equal([item.metadata.name for item in core.list_namespaced_config_map(NS, field_selector='metadata.name=page3').items], ['page3'])
    equal(len(core.list_namespaced_config_map(NS, label_selector='page in (yes),page!=no', resource_version='0', resource_version_match='NotOlderThan').items), 5)
    code, body = api_error(lambda: core.list_namespaced_config_map(NS, field_selector='data.k=v'))
    equal((code, body['reason']), (400, 'BadRequest'))
    equal(body['message'], 'field label not supported: data.k')


@check('query parameters: pretty=true indents JSON, unknown parameters are ignored')
def _():
    code, text = api.call_api(f'/api/v1/namespaces/{NS}/configmaps/c1', 'GET', query_params=[('pretty', 'true')], header_params={'Accept': 'application/json'},
                              auth_settings=['BearerToken'], _preload_content=False, _return_http_data_only=False)[0:2][::-1]
    text = text.data.decode()
    assert text.startswith('{\n  "kind": "ConfigMap",\n  "apiVersion": "v1",\n  "metadata": {\n    "name": "c1"') or text.startswith('{\n  "kind": "ConfigMap",\n  "apiVersion": "v1",\n  "metadata": {\n'), text[:120]
    equal(code, 200)
    equal(core.read_namespaced_config_map('c1', NS, pretty='true').metadata.name, 'c1')
    code, body = raw('GET', f'/api/v1/namespaces/{NS}/configmaps/c1', query=[('somethingUnknown', 'x')])
    equal((code, body['metadata']['name']), (200, 'c1'))


@check('watch.Watch: events from a resource_version, timeout_seconds, bookmarks')
def _():
    start = core.list_namespaced_config_map(NS).metadata.resource_version
    events = []

    def follow():
        for event in watch.Watch().stream(core.list_namespaced_config_map, NS, resource_version=start, allow_watch_bookmarks=True, timeout_seconds=4):
            name = event['raw_object']['metadata'].get('name')
            events.append((event['type'], name))
    follower = threading.Thread(target=follow)
    follower.start()
    core.create_namespaced_config_map(NS, config_map('watched'))
    core.patch_namespaced_config_map('watched', NS, {'data': {'x': 'y'}})
    core.delete_namespaced_config_map('watched', NS)
    follower.join(30)
    assert not follower.is_alive(), 'the watch did not end at its timeout'
    # Other checks' objects may change meanwhile (the foreground delete above finishes in the background).
    changes = [event for event in events if event[0] != 'BOOKMARK' and event[1] == 'watched']
    equal(changes, [('ADDED', 'watched'), ('MODIFIED', 'watched'), ('DELETED', 'watched')], 'events')
    assert ('BOOKMARK', None) in events, f'a bookmark before the timeout: {events}'
    initial = [event['type'] for event in watch.Watch().stream(core.list_namespaced_config_map, NS, field_selector='metadata.name=c1', timeout_seconds=1)]
    equal(initial, ['ADDED'], 'a watch without resource_version starts with the current state')


@check('watch from a resource version the server has not reached: no error, nothing until it times out')
def _():
    future = str(int(core.list_namespaced_config_map(NS).metadata.resource_version) + 1000000)
    started = time.time()
    events = list(watch.Watch().stream(core.list_namespaced_config_map, NS, resource_version=future, timeout_seconds=2))
    equal(events, [], 'events')
    assert time.time() - started >= 1.5, 'the watch ended before its timeout'
    # With sendInitialEvents the server must catch up first; when it cannot, the stream carries an ERROR event.
    code, text = raw('GET', f'/api/v1/namespaces/{NS}/configmaps', query=[('watch', '1'), ('sendInitialEvents', 'true'), ('resourceVersionMatch', 'NotOlderThan'), ('resourceVersion', future)])
    event = json.loads(text.splitlines()[0]) if isinstance(text, str) else text
    equal((code, event['type'], event['object']['code'], event['object']['reason']), (200, 'ERROR', 504, 'Timeout'))
    assert event['object']['message'].startswith(f'Too large resource version: {future}, current: '), event


@check('pods: create, status subresource, binding, eviction, delete')
def _():
    core.create_namespaced_pod(NS, client.V1Pod(metadata=Meta(name='p1', labels={'app': 'p'}), spec=pod_spec()))
    equal(core.read_namespaced_pod_status('p1', NS).status.phase, 'Pending')
    patched = core.patch_namespaced_pod_status('p1', NS, {'status': {'conditions': [{'type': 'Ready', 'status': 'False'}]}})
    assert any(condition.type == 'Ready' for condition in patched.status.conditions)
    # The Python client cannot decode the Status a binding answers with; read it raw as client users do.
    response = core.create_namespaced_pod_binding('p1', NS, client.V1Binding(metadata=Meta(name='p1'), target=client.V1ObjectReference(kind='Node', name='node-1')), _preload_content=False)
    equal((response.status, json.loads(response.data)['status']), (201, 'Success'), 'binding')
    equal(core.read_namespaced_pod('p1', NS).spec.node_name, 'node-1')
    eviction = core.create_namespaced_pod_eviction('p1', NS, client.V1Eviction(metadata=Meta(name='p1', namespace=NS)), _preload_content=False)
    equal(eviction.status, 201, 'eviction')
    code, body = api_error(lambda: core.read_namespaced_pod('p1', NS))
    equal(code, 404)


@check('services, endpoints, serviceaccounts and tokens, secrets, events, nodes, volumes, quotas, limit ranges, pod templates')
def _():
    service = core.create_namespaced_service(NS, client.V1Service(metadata=Meta(name='web'), spec=client.V1ServiceSpec(selector={'app': 'p'}, ports=[client.V1ServicePort(port=80)])))
    assert service.spec.cluster_ip and service.spec.type == 'ClusterIP'
    core.create_namespaced_endpoints(NS, client.V1Endpoints(metadata=Meta(name='web'), subsets=[client.V1EndpointSubset(addresses=[client.V1EndpointAddress(ip='10.0.0.1')], ports=[client.CoreV1EndpointPort(port=80)])]))
    core.create_namespaced_service_account(NS, client.V1ServiceAccount(metadata=Meta(name='robot')))
    token = core.create_namespaced_service_account_token('robot', NS, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)))
    review = client.AuthenticationV1Api().create_token_review(client.V1TokenReview(spec=client.V1TokenReviewSpec(token=token.status.token)))
    equal((review.status.authenticated, review.status.user.username), (True, f'system:serviceaccount:{NS}:robot'))
    secret = core.create_namespaced_secret(NS, client.V1Secret(metadata=Meta(name='s'), string_data={'password': 'x'}))
    equal((secret.data, secret.type), ({'password': 'eA=='}, 'Opaque'))
    core.create_namespaced_event(NS, client.CoreV1Event(metadata=Meta(name='e1'), involved_object=client.V1ObjectReference(kind='Pod', name='p1', namespace=NS), reason='Test', message='m', type='Normal'))
    equal([event.reason for event in core.list_namespaced_event(NS).items], ['Test'])
    core.create_persistent_volume(client.V1PersistentVolume(metadata=Meta(name='py-sweep-pv'), spec=client.V1PersistentVolumeSpec(capacity={'storage': '1Gi'}, access_modes=['ReadWriteOnce'], host_path=client.V1HostPathVolumeSource(path='/tmp'))))
    claim = core.create_namespaced_persistent_volume_claim(NS, client.V1PersistentVolumeClaim(metadata=Meta(name='claim'), spec=client.V1PersistentVolumeClaimSpec(access_modes=['ReadWriteOnce'], resources=client.V1ResourceRequirements(requests={'storage': '1Gi'}))))
    equal(claim.status.phase, 'Pending')
    quota = core.create_namespaced_resource_quota(NS, client.V1ResourceQuota(metadata=Meta(name='q'), spec=client.V1ResourceQuotaSpec(hard={'pods': '100'})))
    equal(quota.status.to_dict(), {'hard': None, 'used': None}, 'a new ResourceQuota has status {}')
    core.create_namespaced_limit_range(NS, client.V1LimitRange(metadata=Meta(name='lr'), spec=client.V1LimitRangeSpec(limits=[client.V1LimitRangeItem(type='Container', default={'cpu': '100m'})])))
    core.create_namespaced_pod_template(NS, client.V1PodTemplate(metadata=Meta(name='pt'), template=client.V1PodTemplateSpec(spec=pod_spec())))
    deleted = core.delete_persistent_volume('py-sweep-pv')
    equal((type(deleted).__name__, deleted.metadata.name), ('V1PersistentVolume', 'py-sweep-pv'))
    assert core.list_node() is not None


@check('another identity: a ServiceAccount token is authenticated and refused by RBAC (403), a bad token is a 401')
def _():
    token = core.create_namespaced_service_account_token('robot', NS, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[]))).status.token

    def as_bearer(bearer):
        configuration = client.Configuration.get_default_copy()
        configuration.cert_file = configuration.key_file = None
        configuration.api_key = {'authorization': f'Bearer {bearer}'}
        return client.CoreV1Api(client.ApiClient(configuration))
    code, body = api_error(lambda: as_bearer(token).list_namespaced_config_map(NS))
    equal((code, body['reason'], body['details']), (403, 'Forbidden', {'kind': 'configmaps'}))
    equal(body['message'], f'configmaps is forbidden: User "system:serviceaccount:{NS}:robot" cannot list resource "configmaps" in API group "" in the namespace "{NS}"')
    code, body = api_error(lambda: as_bearer('not-a-token').list_namespaced_config_map(NS))
    equal((code, body), (401, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {}, 'status': 'Failure', 'message': 'Unauthorized', 'reason': 'Unauthorized', 'code': 401}))


@check('replication controllers and apps: scale and status subresources')
def _():
    core.create_namespaced_replication_controller(NS, client.V1ReplicationController(metadata=Meta(name='rc'), spec=client.V1ReplicationControllerSpec(replicas=1, selector={'rc': 'x'}, template=client.V1PodTemplateSpec(metadata=Meta(labels={'rc': 'x'}), spec=pod_spec()))))
    equal(core.patch_namespaced_replication_controller_scale('rc', NS, {'spec': {'replicas': 2}}).spec.replicas, 2)
    deployment = client.V1Deployment(metadata=Meta(name='web'), spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(match_labels={'app': 'web'}), template=client.V1PodTemplateSpec(metadata=Meta(labels={'app': 'web'}), spec=pod_spec())))
    created = apps.create_namespaced_deployment(NS, deployment)
    equal((created.metadata.generation, created.spec.strategy.type), (1, 'RollingUpdate'))
    scale = apps.read_namespaced_deployment_scale('web', NS)
    equal((scale.kind, scale.spec.replicas, scale.status.selector), ('Scale', 1, 'app=web'))
    equal(apps.patch_namespaced_deployment_scale('web', NS, {'spec': {'replicas': 3}}).spec.replicas, 3)
    equal(apps.replace_namespaced_deployment_scale('web', NS, client.V1Scale(metadata=Meta(name='web', namespace=NS), spec=client.V1ScaleSpec(replicas=4))).spec.replicas, 4)
    equal(apps.patch_namespaced_deployment_status('web', NS, {'status': {'replicas': 4}}).status.replicas, 4)
    equal(apps.read_namespaced_deployment('web', NS).spec.replicas, 4)
    template = client.V1PodTemplateSpec(metadata=Meta(labels={'app': 'set'}), spec=pod_spec())
    apps.create_namespaced_stateful_set(NS, client.V1StatefulSet(metadata=Meta(name='set'), spec=client.V1StatefulSetSpec(service_name='set', selector=client.V1LabelSelector(match_labels={'app': 'set'}), template=template)))
    equal(apps.patch_namespaced_stateful_set_scale('set', NS, {'spec': {'replicas': 2}}).spec.replicas, 2)
    apps.create_namespaced_daemon_set(NS, client.V1DaemonSet(metadata=Meta(name='set'), spec=client.V1DaemonSetSpec(selector=client.V1LabelSelector(match_labels={'app': 'set'}), template=template)))
    apps.create_namespaced_replica_set(NS, client.V1ReplicaSet(metadata=Meta(name='set'), spec=client.V1ReplicaSetSpec(selector=client.V1LabelSelector(match_labels={'app': 'set'}), template=template)))
    equal(apps.read_namespaced_replica_set_scale('set', NS).spec.replicas, 1)
    job_template = client.V1PodTemplateSpec(spec=client.V1PodSpec(restart_policy='Never', containers=[client.V1Container(name='c', image='busybox')]))
    job = batch.create_namespaced_job(NS, client.V1Job(metadata=Meta(name='job'), spec=client.V1JobSpec(template=job_template)))
    equal((job.spec.completions, job.spec.backoff_limit), (1, 6))
    cron = batch.create_namespaced_cron_job(NS, client.V1CronJob(metadata=Meta(name='cron'), spec=client.V1CronJobSpec(schedule='*/5 * * * *', job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(template=job_template)))))
    equal(cron.spec.concurrency_policy, 'Allow')
    # Jobs orphan their pods by default (batch/v1): the delete leaves the Job with the orphan finalizer.
    code, body = raw('DELETE', f'/apis/batch/v1/namespaces/{NS}/jobs/job')
    equal((code, body['kind'], body['metadata']['finalizers']), (200, 'Job', ['orphan']))


@check('RBAC, SubjectAccessReview, SelfSubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview')
def _():
    rbac = client.RbacAuthorizationV1Api()
    rbac.create_namespaced_role(NS, client.V1Role(metadata=Meta(name='reader'), rules=[client.V1PolicyRule(api_groups=[''], resources=['pods'], verbs=['get', 'list'])]))
    rbac.create_namespaced_role_binding(NS, client.V1RoleBinding(metadata=Meta(name='reader'), role_ref=client.V1RoleRef(api_group='rbac.authorization.k8s.io', kind='Role', name='reader'),
                                                                 subjects=[client.RbacV1Subject(kind='User', name='alice', api_group='rbac.authorization.k8s.io')] if hasattr(client, 'RbacV1Subject') else [client.V1Subject(kind='User', name='alice', api_group='rbac.authorization.k8s.io')]))
    authorization = client.AuthorizationV1Api()

    def allowed(verb):
        review = client.V1SubjectAccessReview(spec=client.V1SubjectAccessReviewSpec(user='alice', resource_attributes=client.V1ResourceAttributes(verb=verb, resource='pods', namespace=NS)))
        return authorization.create_subject_access_review(review).status.allowed
    deadline = time.time() + 10
    while not allowed('list') and time.time() < deadline:
        time.sleep(0.1)
    equal((allowed('list'), allowed('delete')), (True, False))
    self_review = authorization.create_self_subject_access_review(client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(verb='delete', resource='nodes'))))
    equal(self_review.status.allowed, True)
    rules = authorization.create_self_subject_rules_review(client.V1SelfSubjectRulesReview(spec=client.V1SelfSubjectRulesReviewSpec(namespace=NS)))
    assert any('*' in rule.verbs for rule in rules.status.resource_rules), rules.status
    code, body = raw('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', body={'apiVersion': 'authentication.k8s.io/v1', 'kind': 'SelfSubjectReview'})
    equal((code, body['status']['userInfo']['username']), (201, 'admin'))


@check('coordination, discovery, networking, policy, scheduling, node, admissionregistration, flowcontrol, apiregistration')
def _():
    lease = client.CoordinationV1Api().create_namespaced_lease(NS, client.V1Lease(metadata=Meta(name='lock'), spec=client.V1LeaseSpec(holder_identity='me', lease_duration_seconds=15)))
    equal(lease.spec.holder_identity, 'me')
    slice_ = client.DiscoveryV1Api().create_namespaced_endpoint_slice(NS, client.V1EndpointSlice(metadata=Meta(name='web-1'), address_type='IPv4', endpoints=[client.V1Endpoint(addresses=['10.0.0.2'])]))
    equal(slice_.endpoints[0].addresses, ['10.0.0.2'])
    networking = client.NetworkingV1Api()
    networking.create_namespaced_network_policy(NS, client.V1NetworkPolicy(metadata=Meta(name='deny'), spec=client.V1NetworkPolicySpec(pod_selector=client.V1LabelSelector())))
    ingress = networking.create_namespaced_ingress(NS, client.V1Ingress(metadata=Meta(name='web'), spec=client.V1IngressSpec(default_backend=client.V1IngressBackend(service=client.V1IngressServiceBackend(name='web', port=client.V1ServiceBackendPort(number=80))))))
    equal(ingress.status.to_dict(), {'load_balancer': {'ingress': None}}, 'a new Ingress has status.loadBalancer {}')
    budget = client.PolicyV1Api().create_namespaced_pod_disruption_budget(NS, client.V1PodDisruptionBudget(metadata=Meta(name='pdb'), spec=client.V1PodDisruptionBudgetSpec(min_available=1, selector=client.V1LabelSelector(match_labels={'app': 'p'}))))
    equal(budget.spec.min_available, 1)
    equal(client.SchedulingV1Api().create_priority_class(client.V1PriorityClass(metadata=Meta(name='py-sweep'), value=10)).preemption_policy, 'PreemptLowerPriority')
    equal(client.NodeV1Api().create_runtime_class(client.V1RuntimeClass(metadata=Meta(name='py-sweep'), handler='runc')).handler, 'runc')
    admission = client.AdmissionregistrationV1Api()
    webhook = client.V1ValidatingWebhook(name='v.example.com', admission_review_versions=['v1'], side_effects='None', client_config=client.AdmissionregistrationV1WebhookClientConfig(url='https://127.0.0.1:1/x'),
                                         rules=[client.V1RuleWithOperations(operations=['CREATE'], api_groups=['example.com'], api_versions=['*'], resources=['nothing'])])
    created = admission.create_validating_webhook_configuration(client.V1ValidatingWebhookConfiguration(metadata=Meta(name='py-sweep'), webhooks=[webhook]))
    equal((created.webhooks[0].failure_policy, created.webhooks[0].match_policy, created.webhooks[0].timeout_seconds), ('Fail', 'Equivalent', 10))
    status = admission.delete_validating_webhook_configuration('py-sweep')
    equal((status.status, status.details.group, status.details.kind), ('Success', 'admissionregistration.k8s.io', 'validatingwebhookconfigurations'))
    code, body = raw('GET', '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas/exempt')
    equal((code, body['spec']['priorityLevelConfiguration']['name']), (200, 'exempt'))
    equal(client.ApiregistrationV1Api().read_api_service('v1.apps').spec.group, 'apps')


@check('discovery: VersionApi, ApisApi, CoreV1Api.get_api_resources')
def _():
    version = client.VersionApi().get_code()
    equal((version.major, version.minor), ('1', '32'))
    groups = {group.name for group in client.ApisApi().get_api_versions().groups}
    assert {'apps', 'batch', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io', 'metrics.k8s.io'} <= groups, groups
    resources = {resource.name for resource in core.get_api_resources().resources}
    assert {'pods', 'pods/status', 'pods/binding', 'pods/eviction', 'serviceaccounts/token', 'namespaces/finalize'} <= resources, resources


@check('kubernetes.dynamic.DynamicClient: discovery, CRUD, server-side apply with field_manager, watch')
def _():
    dyn = dynamic.DynamicClient(api)
    maps = dyn.resources.get(api_version='v1', kind='ConfigMap')
    maps.create(body={'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'dyn'}, 'data': {'a': '1'}}, namespace=NS)
    equal(maps.get(name='dyn', namespace=NS).data.a, '1')
    equal(dict(maps.patch(body={'data': {'b': '2'}}, name='dyn', namespace=NS, content_type='application/merge-patch+json').data), {'a': '1', 'b': '2'})
    applied = maps.server_side_apply(body=json.dumps({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'applied'}, 'data': {'x': 'y'}}), name='applied', namespace=NS, field_manager='sweep')
    equal([entry.manager for entry in applied.metadata.managedFields], ['sweep'])
    equal(applied.metadata.managedFields[0].operation, 'Apply')
    deleted = maps.delete(name='dyn', namespace=NS)
    equal((deleted.kind, deleted.status), ('Status', 'Success'))
    deployments = dyn.resources.get(api_version='apps/v1', kind='Deployment')
    equal(sorted(deployments.subresources), ['scale', 'status'])
    equal(dyn.resources.get(api_version='flowcontrol.apiserver.k8s.io/v1', kind='FlowSchema').get(name='exempt').spec.matchingPrecedence, 1)
    equal(dyn.resources.get(api_version='autoscaling/v2', kind='HorizontalPodAutoscaler').namespaced, True)
    review = dyn.resources.get(api_version='authentication.k8s.io/v1', kind='SelfSubjectReview').create(body={'apiVersion': 'authentication.k8s.io/v1', 'kind': 'SelfSubjectReview'})
    equal(review.status.userInfo.username, 'admin')
    events = [event['type'] for event in maps.watch(namespace=NS, field_selector='metadata.name=applied', timeout=1)]
    equal(events, ['ADDED'])


@check('kubernetes.utils.create_from_yaml: several documents, then FailToCreateError with each conflict')
def _():
    manifest = tempfile.NamedTemporaryFile('w', suffix='.yaml', delete=False)
    manifest.write('''apiVersion: v1
kind: ConfigMap
metadata: {name: from-yaml}
data: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: from-yaml}
spec:
  selector: {matchLabels: {app: y}}
  template:
    metadata: {labels: {app: y}}
    spec: {containers: [{name: c, image: nginx}]}
''')
    manifest.close()
    created = utils.create_from_yaml(api, manifest.name, namespace=NS)
    equal([objects[0].metadata.name for objects in created], ['from-yaml', 'from-yaml'])
    try:
        utils.create_from_yaml(api, manifest.name, namespace=NS)
    except utils.FailToCreateError as error:
        equal([(failure.status, json.loads(failure.body)['reason']) for failure in error.api_exceptions], [(409, 'AlreadyExists'), (409, 'AlreadyExists')])
        return
    raise AssertionError('no FailToCreateError')


GROUP, VERSION, PLURAL = 'py.example.com', 'v1', 'widgets'


@check('CRDs and CustomObjectsApi: served once Established, status and scale subresources, patches, deletes')
def _():
    schema = {'type': 'object', 'properties': {'spec': {'type': 'object', 'properties': {'replicas': {'type': 'integer'}, 'color': {'type': 'string'}}},
                                               'status': {'type': 'object', 'properties': {'replicas': {'type': 'integer'}, 'selector': {'type': 'string'}}}}}
    extensions.create_custom_resource_definition({
        'apiVersion': 'apiextensions.k8s.io/v1', 'kind': 'CustomResourceDefinition', 'metadata': {'name': f'{PLURAL}.{GROUP}'},
        'spec': {'group': GROUP, 'scope': 'Namespaced', 'names': {'plural': PLURAL, 'singular': 'widget', 'kind': 'Widget'},
                 'versions': [{'name': VERSION, 'served': True, 'storage': True, 'schema': {'openAPIV3Schema': schema},
                               'subresources': {'status': {}, 'scale': {'specReplicasPath': '.spec.replicas', 'statusReplicasPath': '.status.replicas', 'labelSelectorPath': '.status.selector'}}}]}})
    deadline = time.time() + 30
    while time.time() < deadline:
        conditions = extensions.read_custom_resource_definition(f'{PLURAL}.{GROUP}').status.conditions or []
        if any(condition.type == 'Established' and condition.status == 'True' for condition in conditions):
            break
        time.sleep(0.05)
    # Clients create custom resources as soon as the CRD says Established (upstream serves them from then on).
    widget = custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, {'apiVersion': f'{GROUP}/{VERSION}', 'kind': 'Widget', 'metadata': {'name': 'w1', 'labels': {'w': '1'}}, 'spec': {'replicas': 1, 'color': 'red'}}, field_manager='sweep')
    equal((widget['metadata']['generation'], widget['metadata']['managedFields'][0]['manager']), (1, 'sweep'))
    # The custom resource's cache starts after the CRD's writes: a watch from an older revision is 410 Expired,
    # which Watch raises when it may not retry (a timeout is set).
    try:
        list(watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL, resource_version='1', timeout_seconds=5))
        raise AssertionError('no 410 for a watch from resourceVersion 1')
    except ApiException as error:
        equal(error.status, 410, 'status')
        assert str(error.reason).startswith('Expired: too old resource version: 1 ('), error.reason
    equal(len(custom.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, label_selector='w=1')['items']), 1)
    equal(len(custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)['items']), 1)
    equal(custom.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, 'w1', {'spec': {'color': 'blue'}})['spec'], {'replicas': 1, 'color': 'blue'})
    status = custom.patch_namespaced_custom_object_status(GROUP, VERSION, NS, PLURAL, 'w1', {'status': {'replicas': 1, 'selector': 'w=1'}, 'spec': {'color': 'ignored'}})
    equal((status['status'], status['spec']['color']), ({'replicas': 1, 'selector': 'w=1'}, 'blue'))
    equal(custom.get_namespaced_custom_object_status(GROUP, VERSION, NS, PLURAL, 'w1')['status']['replicas'], 1)
    scale = custom.get_namespaced_custom_object_scale(GROUP, VERSION, NS, PLURAL, 'w1')
    equal((scale['kind'], scale['apiVersion'], scale['spec'], scale['status']), ('Scale', 'autoscaling/v1', {'replicas': 1}, {'replicas': 1, 'selector': 'w=1'}))
    equal(custom.patch_namespaced_custom_object_scale(GROUP, VERSION, NS, PLURAL, 'w1', {'spec': {'replicas': 5}})['spec'], {'replicas': 5})
    replaced = custom.replace_namespaced_custom_object_scale(GROUP, VERSION, NS, PLURAL, 'w1', {'apiVersion': 'autoscaling/v1', 'kind': 'Scale', 'metadata': {'name': 'w1', 'namespace': NS}, 'spec': {'replicas': 6}})
    equal(replaced['spec'], {'replicas': 6})
    current = custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, 'w1')
    equal((current['spec']['replicas'], current['metadata']['generation']), (6, 4))
    dry = custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, {'apiVersion': f'{GROUP}/{VERSION}', 'kind': 'Widget', 'metadata': {'name': 'dry'}}, dry_run='All')
    equal(dry['metadata']['name'], 'dry')
    code, body = api_error(lambda: custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, 'dry'))
    equal((code, body['message'], body['details']), (404, f'{PLURAL}.{GROUP} "dry" not found', {'name': 'dry', 'group': GROUP, 'kind': PLURAL}))
    code, body = api_error(lambda: custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, {'apiVersion': f'{GROUP}/{VERSION}', 'kind': 'Widget', 'metadata': {'name': 'bad'}, 'spec': {'color': 1}}))
    equal((code, body['reason']), (422, 'Invalid'))
    assert body['message'].startswith('Widget.py.example.com "bad" is invalid: spec.color: Invalid value: "integer": spec.color in body must be of type string: "integer"'), body['message']
    dyn = dynamic.DynamicClient(api)
    widgets = dyn.resources.get(api_version=f'{GROUP}/{VERSION}', kind='Widget')
    applied = widgets.server_side_apply(body=json.dumps({'apiVersion': f'{GROUP}/{VERSION}', 'kind': 'Widget', 'metadata': {'name': 'w2'}, 'spec': {'color': 'green'}}), name='w2', namespace=NS, field_manager='sweep')
    equal(applied.spec.color, 'green')
    events = [event['type'] for event in watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, NS, PLURAL, timeout_seconds=1)]
    equal(sorted(events), ['ADDED', 'ADDED'])
    deleted = custom.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, 'w1')
    equal((deleted['kind'], deleted['status'], deleted['details']), ('Status', 'Success', {'name': 'w1', 'group': GROUP, 'kind': PLURAL, 'uid': widget['metadata']['uid']}))
    listed = custom.delete_collection_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)
    equal((listed['kind'], [item['metadata']['name'] for item in listed['items']]), ('WidgetList', ['w2']))
    removing = extensions.delete_custom_resource_definition(f'{PLURAL}.{GROUP}', _preload_content=False)
    equal(json.loads(removing.data)['kind'], 'CustomResourceDefinition')


@check('namespace delete answers the namespace, Terminating')
def _():
    code, body = raw('DELETE', f'/api/v1/namespaces/{NS}')
    equal((code, body['kind'], body['status']['phase']), (200, 'Namespace', 'Terminating'))


print(json.dumps({'failures': failures}))
sys.exit(1 if failures else 0)
