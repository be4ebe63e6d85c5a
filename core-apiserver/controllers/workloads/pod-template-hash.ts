// The pod-template-hash: names a Deployment's ReplicaSet after its pod template (and labels its pods), so
// one template maps to one ReplicaSet. Upstream hashes Go's printed struct with FNV-32a; we hash the
// template's canonical JSON the same way and encode the decimal digits with the same "safe" alphabet
// (no vowels, no look-alikes), so values look like upstream's (e.g. 7c5ddbdf54). The value is opaque to
// clients; only its stability matters.

export const HASH_LABEL = 'pod-template-hash';
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const hash = fnv32a(canonical(template) + (collisionCount > 0 ? `#${collisionCount}` : ''));
  return [...String(hash)].map((digit) => SAFE_ALPHABET[digit.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

function withoutHashLabel(template: unknown): unknown {
  const copy = structuredClone((template ?? {}) as { metadata?: { labels?: Record<string, string> } });
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[HASH_LABEL];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  if (copy.metadata && Object.keys(copy.metadata).length === 0) delete copy.metadata;
  return copy;
}

/** A ReplicaSet's template is the Deployment's when they differ only by the hash label (upstream's EqualIgnoreHash). */
export function templatesEqualIgnoringHash(left: unknown, right: unknown): boolean {
  return canonical(withoutHashLabel(left)) === canonical(withoutHashLabel(right));
}
