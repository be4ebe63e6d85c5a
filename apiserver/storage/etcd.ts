// The etcd v3 backend: our storage contract is etcd's, so each call is one etcd request. Keys are ours with
// the leading "/registry" replaced by the configured prefix (the default "/registry" keeps upstream's
// layout, e.g. /registry/configmaps/default/x); revisions are etcd's, so resourceVersions are the same
// on every server and replica sharing the etcd.
//
// create = txn(version == 0) put; update/delete = txn(mod_revision == expected); lists are range requests
// from the key after `after` with a limit at a fixed revision — never sorted by etcd, whose keys come in
// ascending byte order anyway (sorting makes etcd 3.4 buffer the whole range).

import { createRequire } from 'node:module';
import type { Etcd3, IKeyValue, IOptions, IRangeRequest, IResponseHeader } from 'etcd3';
import {
  CompactedError,
  ConflictError,
  KeyExistsError,
  NotFoundError,
  StorageError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type WatchHandlers,
  type Watcher,
} from './interface.js';
import { EtcdWatchStreams } from './etcd-watch.js';

/** The part of our keys the etcd prefix replaces. */
const KEY_ROOT = '/registry';
/** Keys per range request when a caller asked for everything (one huge response would stall etcd). */
const UNLIMITED_PAGE = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export interface EtcdStorageOptions {
  /** Client URLs (http:// or https://), as --etcd-servers. */
  endpoints: string[];
  /** Replaces "/registry" at the start of our keys (--etcd-prefix; default "/registry"). */
  prefix?: string;
  /** PEM contents for TLS to etcd (--etcd-cafile, --etcd-certfile, --etcd-keyfile). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Deadline of each unary request. */
  requestTimeoutMs?: number;
}

export class EtcdStorage implements Storage {
  readonly name = 'etcd';
  readonly client: Etcd3;
  private readonly prefix: string;
  private readonly watches: EtcdWatchStreams;
  /** The newest compaction this client knows of (its own, or one etcd reported). */
  private compacted = 0;
  private closed = false;

  constructor(options: EtcdStorageOptions) {
    if (options.endpoints.length === 0) throw new StorageError('no etcd endpoints given');
    this.prefix = (options.prefix ?? KEY_ROOT).replace(/\/+$/, '');
    const timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const clientOptions: IOptions = {
      hosts: options.endpoints,
      // Lists of large objects exceed gRPC's default 4 MiB; kube-apiserver lifts the limit the same way.
      grpcOptions: { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 },
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeout }),
    };
    if (options.tls?.ca || options.tls?.cert) {
      clientOptions.credentials = { rootCertificate: options.tls.ca ?? Buffer.alloc(0), privateKey: options.tls.key, certChain: options.tls.cert };
    }
    // Loaded on first use: the gRPC client costs every server ~130 ms at startup, and most never use etcd.
    const { Etcd3: Client } = createRequire(import.meta.url)('etcd3') as typeof import('etcd3');
    this.client = new Client(clientOptions);
    this.watches = new EtcdWatchStreams(this.client, {
      decodeKey: (key) => this.ourKey(key),
      onCompacted: (revision) => this.learnCompacted(revision),
      unchangedBetween: (key, end, from, to) => this.unchangedBetween(key, end, from, to),
    });
    // Learn a compaction done before we started, so that watch() can refuse old revisions synchronously.
    void this.readCompactionMark().catch(() => undefined);
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    const response = await this.range({ key: this.etcdKey(key), revision: revision || undefined }, revision);
    const item = response.kvs[0];
    return item && this.keyValue(item);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const start = this.etcdKey(options.after !== undefined && options.after >= prefix ? `${options.after}\0` : prefix);
    const end = rangeEnd(this.etcdKey(prefix));
    const wanted = options.limit && options.limit > 0 ? options.limit : 0;
    let revision = options.revision || 0;
    const items: KeyValue[] = [];
    let from = start;
    // Unlimited lists are read in pages at one revision; a limited one is a single request.
    for (;;) {
      const pageLimit = wanted ? wanted - items.length : UNLIMITED_PAGE;
      const response = await this.range({ key: from, range_end: end, limit: pageLimit, revision: revision || undefined }, revision || undefined);
      revision ||= Number(response.header.revision);
      for (const item of response.kvs) items.push(this.keyValue(item));
      const remaining = Number(response.count) - response.kvs.length;
      if (wanted || !response.more || response.kvs.length === 0) {
        return { items, revision, more: response.more, remaining: wanted ? remaining : 0 };
      }
      from = Buffer.concat([response.kvs[response.kvs.length - 1].key, Buffer.from([0])]);
    }
  }

  async count(prefix: string): Promise<number> {
    const key = this.etcdKey(prefix);
    const response = await this.range({ key, range_end: rangeEnd(key), count_only: true });
    return Number(response.count);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const etcdKey = this.etcdKey(key);
    const response = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: etcdKey, target: 'Version', result: 'Equal', version: 0 }],
        success: [{ request_put: { key: etcdKey, value: Buffer.from(value, 'utf8') } }],
        failure: [],
      }),
    );
    if (!response.succeeded) throw new KeyExistsError(key);
    const revision = Number(response.header.revision);
    return { key, value, createRevision: revision, modRevision: revision };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    const etcdKey = this.etcdKey(key);
    const response = await this.call(() =>
      this.client.kv.txn({
        compare: [{ key: etcdKey, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision }],
        success: [{ request_put: { key: etcdKey, value: Buffer.from(value, 'utf8'), prev_kv: true } }],
        failure: [{ request_range: { key: etcdKey } }],
      }),
    );
    if (!response.succeeded) throw this.conflictOrMissing(key, response.responses[0]?.response_range?.kvs[0]);
    const previous = response.responses[0].response_put.prev_kv;
    return { key, value, createRevision: Number(previous.create_revision), modRevision: Number(response.header.revision) };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const etcdKey = this.etcdKey(key);
    const response = await this.call(() =>
      this.client.kv.txn({
        // Without an expected revision: delete whatever is there (mod_revision > 0 means "exists").
        compare: [
          expectedModRevision === undefined
            ? { key: etcdKey, target: 'Mod', result: 'Greater', mod_revision: 0 }
            : { key: etcdKey, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
        ],
        success: [{ request_delete_range: { key: etcdKey, prev_kv: true } }],
        failure: [{ request_range: { key: etcdKey } }],
      }),
    );
    if (!response.succeeded) throw this.conflictOrMissing(key, response.responses[0]?.response_range?.kvs[0]);
    const previous = response.responses[0].response_delete_range.prev_kvs[0];
    return { ...this.keyValue(previous), modRevision: Number(response.header.revision) };
  }

  watch(prefix: string, fromRevision: number, handlers: WatchHandlers): Watcher {
    this.assertOpen();
    if (fromRevision < this.compacted) throw new CompactedError(fromRevision, this.compacted);
    const key = this.etcdKey(prefix);
    return this.watches.watch(key, rangeEnd(key), fromRevision, handlers);
  }

  /**
   * No key in [key, end) was created, changed or deleted in (from, to]: as many keys at both revisions, and
   * none at `to` modified after `from`. (etcd's count ignores min_mod_revision, so the keys are fetched.)
   */
  private async unchangedBetween(key: Buffer, end: Buffer, from: number, to: number): Promise<boolean> {
    const [before, after, modified] = await Promise.all([
      this.range({ key, range_end: end, count_only: true, revision: from }, from),
      this.range({ key, range_end: end, count_only: true, revision: to }, to),
      this.range({ key, range_end: end, keys_only: true, min_mod_revision: from + 1, revision: to }, to),
    ]);
    return before.count === after.count && modified.kvs.length === 0;
  }

  /** Asks etcd to send every watcher the current revision soon (watch caches waiting to be fresh). */
  requestProgress(): void {
    if (!this.closed) this.watches.requestProgress();
  }

  async currentRevision(): Promise<number> {
    // A count-only read of one key is the cheapest linearizable request that returns the revision.
    const response = await this.range({ key: Buffer.from(COMPACT_REVISION_KEY), count_only: true });
    return Number(response.header.revision);
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen();
    if (revision <= this.compacted) return;
    try {
      await this.call(() => this.client.kv.compact({ revision, physical: false }));
    } catch (error) {
      // Someone (another replica) compacted further already: nothing left to do.
      if (!(error instanceof CompactedError)) throw error;
    }
    this.learnCompacted(revision);
  }

  async compactedRevision(): Promise<number> {
    await this.readCompactionMark();
    return this.compacted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watches.close();
    this.client.close();
  }

  /** etcd key for our key: "/registry/x" → "<prefix>/x". */
  etcdKey(key: string): Buffer {
    const rest = key.startsWith(KEY_ROOT) ? key.slice(KEY_ROOT.length) : key;
    return Buffer.from(this.prefix + rest, 'utf8');
  }

  private ourKey(key: Buffer): string {
    const text = key.toString('utf8');
    return text.startsWith(this.prefix) ? KEY_ROOT + text.slice(this.prefix.length) : text;
  }

  private keyValue(item: IKeyValue): KeyValue {
    return {
      key: this.ourKey(item.key),
      value: item.value.toString('utf8'),
      createRevision: Number(item.create_revision),
      modRevision: Number(item.mod_revision),
    };
  }

  private conflictOrMissing(key: string, current: IKeyValue | undefined): StorageError {
    return current ? new ConflictError(key, this.keyValue(current)) : new NotFoundError(key);
  }

  private range(request: IRangeRequest, requestedRevision?: number): Promise<{ header: IResponseHeader; kvs: IKeyValue[]; more: boolean; count: string }> {
    return this.call(() => this.client.kv.range(request), requestedRevision);
  }

  /** Runs one etcd request, turning etcd's failures into storage errors (never a crash). */
  private async call<T>(request: () => Promise<T>, requestedRevision = 0): Promise<T> {
    this.assertOpen();
    try {
      return await request();
    } catch (error) {
      throw this.storageError(error, requestedRevision);
    }
  }

  private storageError(error: unknown, requestedRevision: number): StorageError {
    const message = error instanceof Error ? error.message : String(error);
    if (message.includes('required revision has been compacted')) {
      // etcd does not say how far; the compacted revision is at least the one asked for.
      this.learnCompacted(requestedRevision);
      return new CompactedError(requestedRevision, Math.max(this.compacted, requestedRevision));
    }
    if (message.includes('required revision is a future revision')) {
      return new StorageError(requestedRevision ? `revision ${requestedRevision} is in the future` : 'the requested revision is in the future');
    }
    if (this.closed) return new StorageError('storage is closed');
    return new StorageError(`etcd request failed: ${message}`);
  }

  /** The compactor records each compaction's revision in COMPACT_REVISION_KEY (see etcd-compactor.ts). */
  private async readCompactionMark(): Promise<void> {
    const response = await this.range({ key: Buffer.from(COMPACT_REVISION_KEY) });
    const mark = response.kvs[0] ? Number(response.kvs[0].value.toString('utf8')) : 0;
    if (Number.isFinite(mark)) this.learnCompacted(mark);
  }

  private learnCompacted(revision: number): void {
    if (revision > this.compacted) this.compacted = revision;
  }

  private assertOpen(): void {
    if (this.closed) throw new StorageError('storage is closed');
  }
}

/** Upstream's key for coordinating compaction between kube-apiservers (outside any prefix). */
export const COMPACT_REVISION_KEY = 'compact_rev_key';

/** End of the etcd range of keys starting with `key` (bytewise). */
function rangeEnd(key: Buffer): Buffer {
  const end = Buffer.from(key);
  for (let index = end.length - 1; index >= 0; index--) {
    if (end[index] < 0xff) {
      end[index]++;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]); // every key
}
