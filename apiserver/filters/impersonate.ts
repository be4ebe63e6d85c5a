// Impersonation (`kubectl --as`, `--as-group`): the caller must be allowed the `impersonate` verb on each
// users/groups/uids/userextras it asks for; the request then runs as that identity. The headers are removed
// afterwards, so a proxied request carries only the resulting identity (in X-Remote-*).

import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../registry/object.js';
import type { RequestInfo } from '../request/request-info.js';
import { badRequest, forbidden } from '../request/status.js';
import type { Authorizer } from './authorize.js';

const USER = 'impersonate-user';
const GROUP = 'impersonate-group';
const UID = 'impersonate-uid';
const EXTRA_PREFIX = 'impersonate-extra-';

function target(resource: string, name: string, group: string, subresource = ''): RequestInfo {
  return { isResourceRequest: true, path: '', verb: 'impersonate', apiPrefix: group ? 'apis' : 'api', apiGroup: group, apiVersion: '', namespace: '', resource, subresource, name, parts: [] };
}

export async function impersonate(req: IncomingMessage, caller: UserInfo, authorizer: Authorizer): Promise<UserInfo> {
  const headers = req.headersDistinct ?? {};
  const names = Object.keys(req.headers).filter((name) => name === USER || name === GROUP || name === UID || name.startsWith(EXTRA_PREFIX));
  if (names.length === 0) return caller;
  const username = headers[USER]?.[0]?.trim() ?? '';
  const groups = (headers[GROUP] ?? []).map((value) => value.trim()).filter(Boolean);
  const uid = headers[UID]?.[0]?.trim();
  const extra: Record<string, string[]> = {};
  for (const name of names.filter((header) => header.startsWith(EXTRA_PREFIX))) {
    extra[decodeURIComponent(name.slice(EXTRA_PREFIX.length)).toLowerCase()] = headers[name] ?? [];
  }
  for (const name of names) delete req.headers[name];
  if (!username) throw badRequest(`requested impersonation of ${groups.length ? `groups [${groups.join(', ')}]` : 'extra attributes'} without impersonating a user`);

  // A ServiceAccount is impersonated as that object (RBAC's `impersonate` on serviceaccounts, which edit
  // grants in a namespace) and gets its fixed groups unless groups were asked for, as upstream does.
  const serviceAccount = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  const checks: RequestInfo[] = [serviceAccount ? { ...target('serviceaccounts', serviceAccount[2], ''), namespace: serviceAccount[1] } : target('users', username, '')];
  const fixedGroups = serviceAccount && groups.length === 0 ? ['system:serviceaccounts', `system:serviceaccounts:${serviceAccount[1]}`] : [];
  for (const group of groups) checks.push(target('groups', group, ''));
  if (uid) checks.push(target('uids', uid, 'authentication.k8s.io'));
  for (const [key, values] of Object.entries(extra)) for (const value of values) checks.push(target('userextras', value, 'authentication.k8s.io', key));
  for (const check of checks) {
    const decision = await authorizer(caller, check);
    if (!decision.allowed) {
      const qualified = check.apiGroup ? `${check.resource}.${check.apiGroup}` : check.resource;
      const scope = check.namespace ? `in the namespace "${check.namespace}"` : 'at the cluster scope';
      const reason = decision.reason ? `: ${decision.reason}` : '';
      throw forbidden(`${qualified} "${check.name}" is forbidden: User "${caller.username}" cannot impersonate resource "${check.subresource ? `${check.resource}/${check.subresource}` : check.resource}" in API group "${check.apiGroup}" ${scope}${reason}`, {
        name: check.name,
        group: check.apiGroup || undefined,
        kind: check.resource,
      });
    }
  }
  const user: UserInfo = { username, groups: [...groups, ...fixedGroups] };
  if (username !== 'system:anonymous' && !user.groups.includes('system:authenticated')) user.groups.push('system:authenticated');
  if (uid) user.uid = uid;
  if (Object.keys(extra).length) user.extra = extra;
  return user;
}
