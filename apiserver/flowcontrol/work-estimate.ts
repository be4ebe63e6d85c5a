// How many seats a request occupies, and for how long (upstream's flowcontrol/request work estimators,
// 1.32 defaults: 1 to 10 seats, 100 objects per seat, 10 watches per seat, 5 ms per event):
// - LIST: one seat per 100 objects it will process, from the resource's object count. Served from the
//   watch cache it walks every stored object; from storage it reads `limit` objects (twice: storage, then
//   decoding) or, with a selector, every object plus the `limit` it keeps. A list for one name is a get.
//   A resource whose count is unknown (served by another server) costs the minimum.
// - WATCH: the minimum, unless it asks for initial events (sendInitialEvents=true), when it costs what
//   its list would; it holds the seats only while it starts.
// - create/update/patch/delete: one seat while running, then, when 10 or more watches will receive the
//   change, ceil(watches / 10) seats (at most the level's maximum) for 5 ms × that count / those seats
//   after the response, the cost of fanning the event out.
// Every other request costs the minimum. A level's widest request is capped by its maxSeats.

import type { RequestInfo } from '../request/request-info.js';

export interface WorkEstimate {
  /** Seats held while the request runs. */
  initialSeats: number;
  /** Seats held after it finishes, for `additionalLatencyMs`. */
  finalSeats: number;
  additionalLatencyMs: number;
}

export const MINIMUM_SEATS = 1;
export const MAXIMUM_SEATS_LIMIT = 10;
const OBJECTS_PER_SEAT = 100;
const WATCHES_PER_SEAT = 10;
const EVENT_ADDITIONAL_DURATION_MS = 5;

const MINIMUM: WorkEstimate = Object.freeze({ initialSeats: MINIMUM_SEATS, finalSeats: 0, additionalLatencyMs: 0 });

export interface WorkEstimatorSources {
  /** Objects stored for "resource" or "resource.group"; undefined when this server does not store it. */
  objectCount(groupResource: string): number | undefined;
  /** Watches that will see a change of this object (see WatchTracker). */
  interestedWatches(info: RequestInfo): number;
}

export function maxSeatsFor(levelMaxSeats: number): number {
  return levelMaxSeats === 0 || levelMaxSeats > MAXIMUM_SEATS_LIMIT ? MAXIMUM_SEATS_LIMIT : levelMaxSeats;
}

export function estimateWork(info: RequestInfo, query: URLSearchParams | undefined, sources: WorkEstimatorSources, levelMaxSeats: number): WorkEstimate {
  switch (info.verb) {
    case 'list':
      return estimateList(info, query, sources, maxSeatsFor(levelMaxSeats));
    case 'watch':
      return query?.get('sendInitialEvents') === 'true' ? estimateList(info, query, sources, maxSeatsFor(levelMaxSeats)) : MINIMUM;
    case 'create':
    case 'update':
    case 'patch':
    case 'delete':
      return estimateMutating(info, sources, maxSeatsFor(levelMaxSeats));
    default:
      return MINIMUM;
  }
}

/** A field selector that pins metadata.name makes the list a get (upstream's request info sets Name). */
function namesOneObject(fieldSelector: string): boolean {
  for (const requirement of fieldSelector.split(',')) {
    const trimmed = requirement.trim();
    if (/^metadata\.name\s*==?/.test(trimmed)) return true;
  }
  return false;
}

function seatsFromObjects(objects: number, maxSeats: number): WorkEstimate {
  const seats = Math.min(maxSeats, Math.max(MINIMUM_SEATS, Math.ceil(objects / OBJECTS_PER_SEAT)));
  return seats === MINIMUM_SEATS ? MINIMUM : { initialSeats: seats, finalSeats: 0, additionalLatencyMs: 0 };
}

function estimateList(info: RequestInfo, query: URLSearchParams | undefined, sources: WorkEstimatorSources, maxSeats: number): WorkEstimate {
  if (info.name !== '') return MINIMUM;
  const fieldSelector = query?.get('fieldSelector') ?? '';
  if (fieldSelector && namesOneObject(fieldSelector)) return MINIMUM;
  const limitText = query?.get('limit');
  const limitValue = limitText ? Number(limitText) : 0;
  // Options the server will refuse (upstream: they fail to convert) cost the most, as the refusal will.
  if (limitText && !Number.isInteger(limitValue)) return seatsFromObjects(Infinity, maxSeats);
  const stored = sources.objectCount(info.apiGroup ? `${info.resource}.${info.apiGroup}` : info.resource);
  if (stored === undefined) return MINIMUM;
  const limit = limitValue > 0 && limitValue < stored ? limitValue : stored;
  let objects: number;
  if (info.verb === 'watch' || !listsFromStorage(query, limitValue)) objects = stored;
  else if (fieldSelector || query?.get('labelSelector')) objects = stored + limit;
  else objects = 2 * limit;
  return seatsFromObjects(objects, maxSeats);
}

/**
 * Whether upstream serves this list from etcd rather than the watch cache (consistent lists come from the
 * cache in 1.32): continuations, and matches the cache cannot answer (Exact, or the legacy exact match of
 * a limit with a resourceVersion other than "0").
 */
function listsFromStorage(query: URLSearchParams | undefined, limit: number): boolean {
  if (!query) return false;
  if (query.get('continue')) return true;
  const match = query.get('resourceVersionMatch') ?? '';
  const resourceVersion = query.get('resourceVersion') ?? '';
  const legacyExact = limit > 0 && match === '' && resourceVersion !== '' && resourceVersion !== '0';
  return (match !== '' && match !== 'NotOlderThan') || legacyExact;
}

function estimateMutating(info: RequestInfo, sources: WorkEstimatorSources, maxSeats: number): WorkEstimate {
  // A service account token request changes nothing anyone watches.
  if (info.resource === 'serviceaccounts' && info.subresource === 'token') return MINIMUM;
  const watches = sources.interestedWatches(info);
  if (watches < WATCHES_PER_SEAT) return MINIMUM;
  const wanted = Math.ceil(watches / WATCHES_PER_SEAT);
  const finalSeats = Math.min(wanted, maxSeats);
  // The work (seats × time) is kept when fewer seats are allowed: they are held longer.
  return { initialSeats: MINIMUM_SEATS, finalSeats, additionalLatencyMs: (wanted * EVENT_ADDITIONAL_DURATION_MS) / finalSeats };
}
