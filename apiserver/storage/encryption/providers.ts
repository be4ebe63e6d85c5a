// The value transformers of encryption at rest (upstream's storage/value/encrypt/*): each keyed provider
// seals a value behind the prefix `k8s:enc:<provider>:v1:<keyname>:`, so a stored value says which provider
// and key wrote it and any configured key can read it back. Storage values are text here (the contract is
// JSON text), so the sealed bytes follow the prefix in base64 rather than raw as in etcd.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';

export type ProviderKind = 'aesgcm' | 'aescbc' | 'secretbox' | 'identity';

export interface ValueTransformer {
  kind: ProviderKind;
  /** The prefix this transformer's values start with ('' for identity). */
  prefix: string;
  /** `context` is the storage key: AES-GCM authenticates it, so a value cannot be moved to another key. */
  seal(plaintext: string, context: string): string;
  open(stored: string, context: string): string;
}

export class TransformError extends Error {}

const ENCRYPTED_MARK = 'k8s:enc:';

export function isEncrypted(value: string): boolean {
  return value.startsWith(ENCRYPTED_MARK);
}

export function identityTransformer(): ValueTransformer {
  return {
    kind: 'identity',
    prefix: '',
    seal: (plaintext) => plaintext,
    open: (stored) => {
      if (isEncrypted(stored)) throw new TransformError('identity transformer tried to read encrypted data');
      return stored;
    },
  };
}

function sealed(prefix: string, stored: string): Buffer {
  return Buffer.from(stored.slice(prefix.length), 'base64');
}

export function aesGcmTransformer(keyName: string, secret: Buffer): ValueTransformer {
  const prefix = `${ENCRYPTED_MARK}aesgcm:v1:${keyName}:`;
  const algorithm = `aes-${secret.length * 8}-gcm` as 'aes-256-gcm'; // the key length picks AES-128, -192 or -256
  return {
    kind: 'aesgcm',
    prefix,
    seal(plaintext, context) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv(algorithm, secret, nonce);
      cipher.setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return prefix + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
    },
    open(stored, context) {
      const data = sealed(prefix, stored);
      if (data.length < 12 + 16) throw new TransformError('the stored data was shorter than the required size');
      const decipher = createDecipheriv(algorithm, secret, data.subarray(0, 12));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(data.subarray(data.length - 16));
      try {
        return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString('utf8');
      } catch {
        throw new TransformError('cipher: message authentication failed');
      }
    },
  };
}

export function aesCbcTransformer(keyName: string, secret: Buffer): ValueTransformer {
  const prefix = `${ENCRYPTED_MARK}aescbc:v1:${keyName}:`;
  const algorithm = `aes-${secret.length * 8}-cbc`;
  return {
    kind: 'aescbc',
    prefix,
    seal(plaintext) {
      const iv = randomBytes(16);
      const cipher = createCipheriv(algorithm, secret, iv); // PKCS#7 padding, as upstream
      return prefix + Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
    },
    open(stored) {
      const data = sealed(prefix, stored);
      if (data.length < 32 || data.length % 16 !== 0) throw new TransformError('the stored data is not a multiple of the block size');
      const decipher = createDecipheriv(algorithm, secret, data.subarray(0, 16));
      try {
        return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString('utf8');
      } catch {
        throw new TransformError('invalid PKCS7 data (empty or not padded)');
      }
    },
  };
}

/** XSalsa20-Poly1305 (NaCl secretbox), 24-byte random nonce first, as upstream. */
export function secretboxTransformer(keyName: string, secret: Buffer): ValueTransformer {
  const prefix = `${ENCRYPTED_MARK}secretbox:v1:${keyName}:`;
  const key = new Uint8Array(secret);
  return {
    kind: 'secretbox',
    prefix,
    seal(plaintext) {
      const nonce = randomBytes(nacl.secretbox.nonceLength);
      const box = nacl.secretbox(new Uint8Array(Buffer.from(plaintext, 'utf8')), new Uint8Array(nonce), key);
      return prefix + Buffer.concat([nonce, Buffer.from(box)]).toString('base64');
    },
    open(stored) {
      const data = sealed(prefix, stored);
      if (data.length < nacl.secretbox.nonceLength + nacl.secretbox.overheadLength) throw new TransformError('the stored data was shorter than the required size');
      const opened = nacl.secretbox.open(new Uint8Array(data.subarray(nacl.secretbox.nonceLength)), new Uint8Array(data.subarray(0, nacl.secretbox.nonceLength)), key);
      if (!opened) throw new TransformError('output array was not large enough for encryption');
      return Buffer.from(opened).toString('utf8');
    },
  };
}

/**
 * The providers of one resource rule, in order: the first seals every write; reading picks the transformer
 * whose prefix the value carries (identity reads anything unprefixed). `stale` says the value was not
 * written by the first provider, so an update must rewrite it even when the object did not change.
 */
export class PrefixTransformers {
  constructor(readonly transformers: ValueTransformer[]) {}

  seal(plaintext: string, context: string): string {
    return this.transformers[0].seal(plaintext, context);
  }

  open(stored: string, context: string): { value: string; stale: boolean } {
    for (let index = 0; index < this.transformers.length; index++) {
      const transformer = this.transformers[index];
      if (transformer.prefix === '' ? isEncrypted(stored) : !stored.startsWith(transformer.prefix)) continue;
      return { value: transformer.open(stored, context), stale: index !== 0 };
    }
    throw new TransformError('no matching prefix found');
  }
}
