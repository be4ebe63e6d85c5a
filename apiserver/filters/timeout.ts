// Request timeout (60 s by default; long-running requests are exempt). The handler cannot be cancelled,
// but the client gets a 504 Status in time and whatever the handler writes later is discarded.

import { timeout } from '../request/status.js';

export async function withTimeout<T>(work: Promise<T>, milliseconds: number, onTimeout: () => void): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      onTimeout();
      resolve(undefined);
    }, milliseconds);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export function timeoutError(): ReturnType<typeof timeout> {
  return timeout('request did not complete within the allowed duration');
}
