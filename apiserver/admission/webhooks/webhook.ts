// One webhook of a Mutating- or ValidatingWebhookConfiguration, compiled once per configuration
// resourceVersion: its selectors parsed, its matchConditions compiled, its HTTPS client ready. `matches`
// and `call` are upstream's ShouldCallHook and callHook, with upstream's errors.

import type { Authorizer } from '../../filters/authorize.js';
import { randomUUID } from 'node:crypto';
import type { ServiceResolver } from '../../../apiextensions/conversion/service-resolver.js';
import type { KubeObject } from '../../registry/object.js';
import type { LabelSelector } from '../../registry/labels.js';
import { StatusError, badRequest, internalError } from '../../request/status.js';
import type { AdmissionAttributes, AdmissionContext } from '../interface.js';
import type { MatchCondition } from '../expressions.js';
import { baseActivation, compileMatchConditions, evaluateMatchConditions } from '../expressions.js';
import type { NamespaceLookup } from '../matching.js';
import { anyRuleMatches, namespaceSelectorMatches, objectSelectorMatches, parseSelector } from '../matching.js';
import { CallError, WebhookClient } from './client.js';
import type { ReviewResponse } from './review.js';
import { admissionReview, reviewVersionFor, verifyResponse } from './review.js';

export class CompiledWebhook {
  readonly name: string;
  readonly failOpen: boolean;
  readonly reinvokeIfNeeded: boolean;
  private readonly namespaceSelector: LabelSelector;
  private readonly objectSelector: LabelSelector;
  private readonly conditions: MatchCondition[];
  private readonly conditionErrors: string[];
  private readonly timeoutSeconds: number;
  readonly client: WebhookClient;

  constructor(
    readonly configuration: string,
    private readonly spec: Record<string, any>, // eslint-disable-line @typescript-eslint/no-explicit-any
    resolver: ServiceResolver | undefined,
  ) {
    this.name = String(spec.name ?? '');
    this.failOpen = spec.failurePolicy === 'Ignore';
    this.reinvokeIfNeeded = spec.reinvocationPolicy === 'IfNeeded';
    this.namespaceSelector = parseSelector(spec.namespaceSelector);
    this.objectSelector = parseSelector(spec.objectSelector);
    const compiled = compileMatchConditions(spec.matchConditions);
    this.conditions = compiled.conditions;
    this.conditionErrors = compiled.errors;
    // Upstream's default and ceiling.
    this.timeoutSeconds = Math.min(Math.max(Number(spec.timeoutSeconds ?? 10) || 10, 1), 30);
    this.client = new WebhookClient(spec.clientConfig ?? {}, resolver);
  }

  /**
   * Rules, namespaceSelector and objectSelector decide silently; a matchCondition that cannot be evaluated
   * is a call failure, judged by the failure policy like an unreachable webhook.
   */
  async matches(attributes: AdmissionAttributes, namespaces: NamespaceLookup, authorizer?: Authorizer): Promise<boolean> {
    if (!anyRuleMatches(this.spec.rules, attributes, { equivalent: this.spec.matchPolicy !== 'Exact' })) return false;
    if (!(await namespaceSelectorMatches(this.namespaceSelector, attributes, namespaces))) return false;
    if (!objectSelectorMatches(this.objectSelector, attributes)) return false;
    if (this.conditionErrors.length > 0) throw new CallError(this.conditionErrors.join(', '));
    if (this.conditions.length === 0) return true;
    const result = await evaluateMatchConditions(this.conditions, baseActivation(attributes, authorizer));
    if ('error' in result) throw new CallError(result.error);
    return result.matches;
  }

  /** Sends the review; answers the usable response, or undefined when the call failed open. */
  async call(attributes: AdmissionAttributes, context: AdmissionContext, mutating: boolean, failedOpenKey: string): Promise<ReviewResponse | undefined> {
    // A webhook that may have side effects cannot take part in a dry run (upstream refuses the request).
    if (attributes.dryRun && this.spec.sideEffects !== 'None' && this.spec.sideEffects !== 'NoneOnDryRun') {
      throw badRequest(`admission webhook ${JSON.stringify(this.name)} does not support dry run`);
    }
    const uid = randomUUID();
    let response: ReviewResponse;
    try {
      const version = reviewVersionFor(this.spec.admissionReviewVersions);
      if (!version) throw new CallError('could not create admission objects: webhook does not accept known AdmissionReview versions');
      const answer = await this.client.post(admissionReview(uid, attributes, version), this.timeoutSeconds);
      try {
        response = verifyResponse(answer, uid, mutating, version);
      } catch (error) {
        throw new CallError(`received invalid webhook response: ${(error as Error).message}`);
      }
    } catch (error) {
      if (!(error instanceof CallError)) throw error;
      return this.failed(error, context, failedOpenKey);
    }
    for (const warning of response.warnings ?? []) context.warnings.push(warning);
    for (const [key, value] of Object.entries(response.auditAnnotations ?? {})) context.auditAnnotations[`${this.name}/${key}`] = String(value);
    if (!response.allowed) throw this.denial(response.status);
    return response;
  }

  /** Upstream's failure policy: Ignore records the failure in an audit annotation and goes on. */
  failed(error: CallError, context: AdmissionContext, failedOpenKey: string): undefined {
    const message = `failed calling webhook ${JSON.stringify(this.name)}: ${error.message}`;
    if (!this.failOpen) throw internalError(message);
    context.auditAnnotations[failedOpenKey] = this.name;
    return undefined;
  }

  /** Upstream's ToStatusErr: the webhook's status, at least a 400, its message after who denied it. */
  private denial(status: ReviewResponse['status']): StatusError {
    const deniedBy = `admission webhook ${JSON.stringify(this.name)} denied the request`;
    const code = typeof status?.code === 'number' && status.code >= 400 ? status.code : 400;
    const reason = typeof status?.reason === 'string' ? status.reason : '';
    const message = status?.message ? `${deniedBy}: ${status.message}` : reason ? `${deniedBy}: ${reason}` : `${deniedBy} without explanation`;
    return new StatusError(code, reason, message, status?.details as StatusError['details']);
  }
}

/**
 * A configuration's webhooks, compiled while its resourceVersion stays the same; clients of replaced
 * configurations are closed so their keep-alive sockets do not linger.
 */
export class CompiledConfigurations {
  private readonly compiled = new Map<string, { resourceVersion: string; webhooks: CompiledWebhook[] }>();

  constructor(private readonly resolver: ServiceResolver | undefined) {}

  /** Every webhook in upstream's order: configurations sorted by name, webhooks in their order. */
  webhooks(configurations: KubeObject[]): CompiledWebhook[] {
    const sorted = [...configurations].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    const live = new Set<string>();
    const result: CompiledWebhook[] = [];
    for (const configuration of sorted) {
      const uid = configuration.metadata.uid ?? configuration.metadata.name ?? '';
      live.add(uid);
      const resourceVersion = configuration.metadata.resourceVersion ?? '';
      let entry = this.compiled.get(uid);
      if (!entry || entry.resourceVersion !== resourceVersion) {
        entry?.webhooks.forEach((webhook) => webhook.client.close());
        const specs = Array.isArray(configuration.webhooks) ? configuration.webhooks : [];
        entry = { resourceVersion, webhooks: specs.map((spec: Record<string, unknown>) => new CompiledWebhook(configuration.metadata.name ?? '', spec, this.resolver)) };
        this.compiled.set(uid, entry);
      }
      result.push(...entry.webhooks);
    }
    for (const [uid, entry] of this.compiled) {
      if (live.has(uid)) continue;
      entry.webhooks.forEach((webhook) => webhook.client.close());
      this.compiled.delete(uid);
    }
    return result;
  }
}
