// Every error the servers produce is a StatusError: thrown from anywhere, converted once at the edge
// into a metav1.Status body with the matching HTTP code (kubectl prints `reason` and `message`).

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  /** ListMeta: only `continue`, on a 410 for a compacted continue token. */
  metadata: { continue?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class StatusError extends Error {
  /** A continue token the client may use instead of the expired one (upstream's Status.ListMeta.Continue). */
  continueToken?: string;

  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    /** Extra response headers (e.g. Retry-After). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }

  toStatus(): Status {
    // Upstream's field order; reason and details are omitempty (StatusReasonUnknown is "").
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.continueToken ? { continue: this.continueToken } : {},
      status: 'Failure',
      message: this.message,
      reason: this.reason || undefined,
      details: this.details && Object.keys(this.details).length > 0 ? this.details : undefined,
      code: this.code,
    };
  }
}

/** A field-level validation problem, as field.Error upstream. */
export interface FieldError {
  /** Dotted path as kubectl prints it: `metadata.name`, `spec.containers[0].image`. */
  field: string;
  /** Upstream cause reasons: FieldValueRequired, FieldValueInvalid, FieldValueDuplicate, ... */
  type: FieldErrorType;
  /** The offending value (rendered in the message for Invalid/NotSupported/Duplicate). */
  value?: unknown;
  /** The detail text after the standard prefix. */
  detail?: string;
  /** For NotSupported: the accepted values. */
  supported?: string[];
}

export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueDuplicate'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  | 'FieldValueNotFound'
  | 'InternalError';

export function fieldErrorMessage(error: FieldError): string {
  const detail = error.detail ? `: ${error.detail}` : '';
  switch (error.type) {
    case 'FieldValueRequired':
      return `Required value${detail}`;
    case 'FieldValueInvalid':
      return `Invalid value: ${renderValue(error.value)}${detail}`;
    case 'FieldValueTypeInvalid':
      return `Invalid value: ${renderValue(error.value)}${detail}`;
    case 'FieldValueDuplicate':
      return `Duplicate value: ${renderValue(error.value)}${detail}`;
    case 'FieldValueNotSupported': {
      const supported = error.supported?.length
        ? `: supported values: ${error.supported.map((v) => JSON.stringify(v)).join(', ')}`
        : '';
      // Upstream's NotSupported has no detail; ours may carry one (a CRD schema violation's fix).
      return `Unsupported value: ${renderValue(error.value)}${supported}${detail}`;
    }
    case 'FieldValueForbidden':
      return `Forbidden${detail}`;
    case 'FieldValueNotFound':
      return `Not found: ${renderValue(error.value)}${detail}`;
    case 'FieldValueTooLong':
      return `Too long${detail}`;
    case 'FieldValueTooMany':
      // field.TooMany carries the actual count as its value (`Too many: 4: must have at most 3 items`).
      return error.value === undefined ? `Too many${detail}` : `Too many: ${renderValue(error.value)}${detail}`;
    case 'InternalError':
      return `Internal error${detail}`;
  }
}

/** A value already rendered as upstream prints it (e.g. Go's %#v of a struct), shown verbatim. */
export class RenderedValue {
  constructor(readonly text: string) {}
}

/** Renders a value the way field.Error does: strings quoted, scalars bare, objects abbreviated. */
function renderValue(value: unknown): string {
  if (value instanceof RenderedValue) return value.text;
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // Go's %#v of a []string, as in `dryRun: Unsupported value: []string{"Some"}`.
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return `[]string{${value.map((item) => JSON.stringify(item)).join(', ')}}`;
  // Label-like string maps are short and what users need to see: Go's %#v of map[string]string.
  if (!Array.isArray(value) && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > 0 && entries.length <= 16 && entries.every(([, item]) => typeof item === 'string')) {
      return `map[string]string{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, item]) => `${JSON.stringify(key)}:${JSON.stringify(item)}`).join(', ')}}`;
    }
  }
  // Never dump a whole object into a message: name its type instead.
  if (Array.isArray(value)) return '"array"';
  return '"object"';
}

// ---- constructors for the errors the handlers raise ---------------------------------------------

export interface QualifiedResource {
  group: string;
  resource: string;
}

function qualified(gr: QualifiedResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export function notFound(gr: QualifiedResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function pathNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(gr: QualifiedResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function conflict(gr: QualifiedResource, name: string, why: string): StatusError {
  return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  const causes = errors.map((e) => ({ reason: e.type, message: fieldErrorMessage(e), field: e.field }));
  const summary = causes.map((c) => `${c.field}: ${c.message}`);
  const list = summary.length === 1 ? summary[0] : `[${summary.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  // StatusDetails fields are omitempty upstream.
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${list}`, {
    name: name || undefined,
    group: group || undefined,
    kind: kind || undefined,
    causes,
  });
}

/**
 * A 422 about request options (`ListOptions.meta.k8s.io "" is invalid: …`, upstream validates them with
 * NewInvalid and the options kind) or, without a kind, about a patch (` "" is invalid: …`). With neither
 * kind nor name in the details, kubectl prints "The request is invalid: …".
 */
export function invalidRequest(errors: FieldError[], optionsKind = ''): StatusError {
  return invalid(optionsKind, optionsKind ? 'meta.k8s.io' : '', '', errors);
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function forbidden(message: string, details?: StatusDetails): StatusError {
  return new StatusError(403, 'Forbidden', message, details);
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError(401, 'Unauthorized', message);
}

export function methodNotSupported(gr: QualifiedResource, verb: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', `${verb} is not supported on resources of kind "${qualified(gr)}"`, {
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

export function notAcceptable(accepted: string[]): StatusError {
  return new StatusError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

/** Upstream's errUnsupportedMediaType carries no details: the message lists what would have worked. */
export function unsupportedMediaType(_contentType: string, accepted: string[]): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

export function requestEntityTooLarge(limitBytes: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Gone', message);
}

export function tooManyRequests(retryAfterSeconds: number): StatusError {
  return new StatusError(
    429,
    'TooManyRequests',
    'Too many requests, please try again later.',
    { retryAfterSeconds },
    { 'Retry-After': String(retryAfterSeconds) },
  );
}

export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export function serviceUnavailable(message: string, retryAfterSeconds?: number): StatusError {
  return new StatusError(
    503,
    'ServiceUnavailable',
    message,
    retryAfterSeconds ? { retryAfterSeconds } : undefined,
    retryAfterSeconds ? { 'Retry-After': String(retryAfterSeconds) } : undefined,
  );
}

/** NewTimeoutError: the message is prefixed and a zero retryAfterSeconds is omitted, as upstream serializes it. */
export function timeout(message: string): StatusError {
  return new StatusError(504, 'Timeout', `Timeout: ${message}`);
}

/** Any thrown value → StatusError; unknown errors become a 500 without leaking stack traces. */
export function toStatusError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  // Only a request's own nesting can exhaust the stack (Go's decoder refuses such bodies with a 400 too).
  if (error instanceof RangeError && /call stack/i.test(error.message)) return badRequest('the object is nested too deeply to be processed');
  const message = error instanceof Error ? error.message : String(error);
  return internalError(message);
}
