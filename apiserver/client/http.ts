// The smallest HTTPS client the framework's own clients need: a GET with a keep-alive agent and a timeout.

import https from 'node:https';

export interface TextResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function getText(baseUrl: string, agent: https.Agent, path: string, headers: Record<string, string> = {}, timeoutMs = 5000): Promise<TextResponse> {
  return request('GET', baseUrl, agent, path, headers, undefined, timeoutMs);
}

export function request(method: string, baseUrl: string, agent: https.Agent, path: string, headers: Record<string, string> = {}, body?: string, timeoutMs = 10_000): Promise<TextResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, baseUrl);
    const outgoing = https.request(url, { method, agent, headers: body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`timed out waiting for ${url.href}`)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
