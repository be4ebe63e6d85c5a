// A range of numbered values (cluster IPs, node ports) allocated through storage: every taken value is
// one key under a prefix, created with storage.create, so two servers on one storage can never hand out
// the same value — the create that loses the race gets KeyExistsError and picks again. There is no
// in-memory bitmap to keep in sync, which is what upstream's IPAddress objects also moved to.

import type { Storage } from '../../apiserver/storage/interface.js';
import { KeyExistsError, NotFoundError } from '../../apiserver/storage/interface.js';

export interface RangeShape {
  /** Number of values: offsets 0..size-1. */
  size: number;
  /**
   * Offsets below this are handed out dynamically only once the rest is full, so that values users pick
   * by hand (conventionally low ones, like a DNS service at .10) rarely collide (upstream's static band).
   */
  staticBand: number;
  /** Offsets never handed out dynamically (the kubernetes Service's IP). */
  neverDynamic?: ReadonlySet<number>;
}

export interface AllocationRecord {
  /** namespace/name of the Service that asked (or namespace/generateName* before the name exists). */
  owner: string;
  /** When the value was taken: repair leaves young records alone, their Service may still be on its way. */
  allocatedAt: string;
}

/** Random probes per band before reading everything that is taken (a nearly full range). */
const RANDOM_PROBES = 8;

export class RangeAllocator {
  constructor(
    private readonly storage: Storage,
    /** Key prefix, ending in '/'. */
    readonly prefix: string,
    readonly shape: RangeShape,
    /** The key suffix of an offset, and back (undefined for keys outside the range). */
    private readonly codec: { name(offset: number): string; offset(name: string): number | undefined },
    private readonly random: () => number = Math.random,
  ) {}

  key(offset: number): string {
    return `${this.prefix}${this.codec.name(offset)}`;
  }

  /** Takes the value for owner; false when it is already taken. */
  async claim(offset: number, owner: string): Promise<boolean> {
    const record: AllocationRecord = { owner, allocatedAt: new Date().toISOString() };
    try {
      await this.storage.create(this.key(offset), JSON.stringify(record));
      return true;
    } catch (error) {
      if (error instanceof KeyExistsError) return false;
      throw error;
    }
  }

  async isTaken(offset: number): Promise<boolean> {
    return (await this.storage.get(this.key(offset))) !== undefined;
  }

  /** Takes a random free value; undefined when the range is full. */
  async claimNext(owner: string): Promise<number | undefined> {
    return this.pick((offset) => this.claim(offset, owner));
  }

  /** A random value free right now, left untaken (dry runs). */
  async peekNext(): Promise<number | undefined> {
    return this.pick(async (offset) => !(await this.isTaken(offset)));
  }

  /** Releasing a value nobody holds is a no-op, as upstream's Release. */
  async release(offset: number): Promise<void> {
    try {
      await this.storage.delete(this.key(offset));
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  /** Every taken value with its record and storage revision (for repair). */
  async taken(): Promise<Map<number, { record: Partial<AllocationRecord>; modRevision: number }>> {
    const result = new Map<number, { record: Partial<AllocationRecord>; modRevision: number }>();
    const listed = await this.storage.list(this.prefix);
    for (const item of listed.items) {
      const offset = this.codec.offset(item.key.slice(this.prefix.length));
      if (offset === undefined) continue;
      let record: Partial<AllocationRecord> = {};
      try {
        record = JSON.parse(item.value) as Partial<AllocationRecord>;
      } catch {
        // An unreadable record still marks the value as taken.
      }
      result.set(offset, { record, modRevision: item.modRevision });
    }
    return result;
  }

  /** Deletes a record only if it is still the one repair looked at. */
  async releaseIfUnchanged(offset: number, modRevision: number): Promise<boolean> {
    try {
      await this.storage.delete(this.key(offset), modRevision);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Random probes in the dynamic band, then in the static band; when probes keep hitting taken values
   * the band is nearly full, so the free ones are found from what storage holds and tried in turn.
   */
  private async pick(take: (offset: number) => Promise<boolean>): Promise<number | undefined> {
    const { size, staticBand } = this.shape;
    const bands: Array<[number, number]> = [
      [staticBand, size],
      [0, Math.min(staticBand, size)],
    ];
    let taken: Set<number> | undefined;
    for (const [low, high] of bands) {
      if (high <= low) continue;
      for (let probe = 0; probe < RANDOM_PROBES; probe++) {
        const offset = low + Math.floor(this.random() * (high - low));
        if (this.shape.neverDynamic?.has(offset)) continue;
        if (await take(offset)) return offset;
      }
      taken ??= new Set((await this.taken()).keys());
      const start = Math.floor(this.random() * (high - low));
      for (let step = 0; step < high - low; step++) {
        const offset = low + ((start + step) % (high - low));
        if (taken.has(offset) || this.shape.neverDynamic?.has(offset)) continue;
        if (await take(offset)) return offset;
      }
    }
    return undefined;
  }
}
