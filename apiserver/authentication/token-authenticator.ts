// Bearer-token authentication as upstream composes it: each authenticator either does not recognise a token
// (undefined: the next one is asked), recognises and accepts it, or recognises and rejects it (throws an
// AuthenticationError). The union answers with the first acceptance; otherwise with every rejection — a
// token someone rejected is never treated as anonymous.

import type { UserInfo } from '../registry/object.js';

export interface TokenResult {
  user: UserInfo;
  /** The audiences the token is valid for among those asked for (upstream's Response.Audiences). */
  audiences: string[];
}

export interface TokenAuthenticator {
  readonly name: string;
  /**
   * `audiences` are the ones the caller needs the token to be for (a TokenReview's spec.audiences); when
   * empty, the server's own API audiences.
   */
  authenticate(token: string, audiences: string[]): Promise<TokenResult | undefined>;
}

/** A recognised but invalid token; the message is what a TokenReview reports in status.error. */
export class AuthenticationError extends Error {}

/**
 * Authenticators that do not check audiences themselves (static tokens, OIDC ID tokens): the token is good
 * for whatever audiences the request asked for, or the API audiences (upstream's WrapAudienceAgnosticToken).
 */
export function audienceAgnostic(authenticator: { name: string; authenticate(token: string): Promise<UserInfo | undefined> }, apiAudiences: string[]): TokenAuthenticator {
  return {
    name: authenticator.name,
    async authenticate(token, audiences) {
      const user = await authenticator.authenticate(token);
      return user ? { user, audiences: audiences.length ? audiences : apiAudiences } : undefined;
    },
  };
}

/** The union of authenticators; errors are joined as utilerrors.Aggregate prints them ("[a, b]" when several). */
export async function authenticateToken(authenticators: readonly TokenAuthenticator[], token: string, audiences: string[]): Promise<TokenResult | undefined> {
  const errors: string[] = [];
  for (const authenticator of authenticators) {
    try {
      const result = await authenticator.authenticate(token, audiences);
      if (result) return result;
    } catch (error) {
      errors.push(error instanceof Error ? error.message : String(error));
    }
  }
  if (errors.length === 0) return undefined;
  throw new AuthenticationError(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
}

/** Every authenticated identity carries system:authenticated (upstream's group adder), once. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.username === 'system:anonymous' || user.groups.includes('system:authenticated')) return user;
  return { ...user, groups: [...user.groups, 'system:authenticated'] };
}

export function intersect(wanted: string[], offered: string[]): string[] {
  return wanted.filter((audience) => offered.includes(audience));
}
