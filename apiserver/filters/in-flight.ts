// Max in-flight requests (upstream's --max-requests-inflight / --max-mutating-requests-inflight): a cheap
// counter per class, 429 with Retry-After past the limit. Long-running requests (watches) are not counted.

import { tooManyRequests } from '../request/status.js';

export class InFlightLimiter {
  private readOnly = 0;
  private mutating = 0;

  constructor(
    private readonly maxReadOnly: number,
    private readonly maxMutating: number,
  ) {}

  /** Returns a release function, or throws 429. A limit of 0 disables it. */
  acquire(isMutating: boolean): () => void {
    if (isMutating) {
      if (this.maxMutating > 0 && this.mutating >= this.maxMutating) throw tooManyRequests(1);
      this.mutating++;
      return () => this.mutating--;
    }
    if (this.maxReadOnly > 0 && this.readOnly >= this.maxReadOnly) throw tooManyRequests(1);
    this.readOnly++;
    return () => this.readOnly--;
  }

  get current(): { readOnly: number; mutating: number } {
    return { readOnly: this.readOnly, mutating: this.mutating };
  }
}
