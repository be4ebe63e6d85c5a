// The extension's readiness, with the reason shown (unlike upstream's withheld reasons): which part of the
// path from kubectl to a kubelet is broken, and what to do about it. Not ready until the first rates are
// stored; every node that cannot be scraped is named with the cause and the fix.

import type { HealthChecks } from '../apiserver/server/health.js';
import type { Informer } from '../apiserver/client/informer.js';
import type { NodeScrape, Scraper } from './scraper.js';

function hint(scrape: NodeScrape): string {
  const error = scrape.error ?? '';
  if (/ECONNREFUSED|EHOSTUNREACH|ENETUNREACH/.test(error)) return 'is the node agent (kubelet) running and listening on its kubeletEndpoint port?';
  if (/timed out/.test(error)) return 'the kubelet did not answer in time: check the network path and the kubelet\'s load';
  if (/UNABLE_TO_VERIFY|SELF_SIGNED|unable to get local issuer|certificate/i.test(error) && !/ALTNAME/.test(error)) return 'TLS: pass --kubelet-certificate-authority with the CA that signed the kubelet serving certificates (or --kubelet-insecure-tls for tests)';
  if (/ALTNAME/.test(error)) return "TLS: the kubelet's serving certificate does not name the address scraped: choose another --kubelet-preferred-address-types or reissue the certificate";
  if (/: 401 /.test(error)) return 'the kubelet rejected our client certificate: pass --kubelet-client-certificate/--kubelet-client-key signed by the kubelet\'s client CA';
  if (/: 403 /.test(error)) return 'the kubelet denied nodes/metrics: grant it to our identity (RBAC)';
  return 'see the error';
}

function apiAccessHint(error: string | undefined): string {
  if (!error) return 'waiting for the first list';
  if (/: 403/.test(error)) return `${error} — grant get/list/watch on nodes and pods to this server's identity (the system:metrics-server ClusterRole)`;
  if (/: 401/.test(error)) return `${error} — the API server does not accept our credentials: check --kubeconfig`;
  return `${error} — is the API server reachable at the --kubeconfig address?`;
}

export function addSelfChecks(health: HealthChecks, scraper: Scraper, informers: { nodes: Informer; pods: Informer }, frontProxy: () => 'trusted' | 'missing' | 'in-process'): void {
  const options = { showReason: true };
  health.add('api-access', () => {
    for (const [kind, informer] of Object.entries(informers)) if (!informer.synced) throw new Error(`cannot list ${kind}: ${apiAccessHint(informer.lastError)}`);
  }, ['readyz'], options);
  health.add('front-proxy-trust', () => {
    const state = frontProxy();
    if (state === 'in-process') return 'served in process: the aggregator calls this server directly';
    if (state === 'missing') throw new Error('no --requestheader-client-ca-file: requests proxied by the aggregator cannot be authenticated; pass the front-proxy CA and --requestheader-allowed-names');
  }, ['readyz'], options);
  health.add('metric-storage-ready', () => {
    const scrapes = [...scraper.lastScrapes.values()];
    const failed = scrapes.filter((scrape) => !scrape.ok);
    const detail = failed.map((scrape) => `node ${scrape.node}${scrape.url ? ` (${scrape.url})` : ''}: ${scrape.error} — ${hint(scrape)}`).join('; ');
    if (scraper.rounds < 2) throw new Error(`waiting for the first two scrapes (${scraper.rounds} done)${detail ? `; ${detail}` : ''}`);
    if (scrapes.length > 0 && failed.length === scrapes.length) throw new Error(`no node could be scraped: ${detail}`);
    // A node that just became Ready has one sample and no rate yet: that is not a failure.
    return `${scrapes.length - failed.length}/${scrapes.length} nodes scraped in ${scraper.lastRoundMs} ms, ${scraper.podPoints.size} pods${detail ? `; ${detail}` : ''}`;
  }, ['readyz'], options);
}
