// Reading a Kubernetes watch stream: newline-delimited JSON events over a chunked response.

import https from 'node:https';
import tls from 'node:tls';
import type { KubeObject } from '../registry/object.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchStreamHandlers {
  onEvent(type: WatchEventType, object: KubeObject): void;
  /** The stream ended; an error when it failed (non-200, connection error). */
  onEnd(error?: Error): void;
}

const secureContexts = new WeakMap<https.Agent, tls.SecureContext>();

/** One TLS context per agent's credentials: building one parses the PEMs (about a millisecond). */
function secureContextOf(agent: https.Agent): tls.SecureContext {
  let context = secureContexts.get(agent);
  if (!context) {
    context = tls.createSecureContext({ ca: agent.options.ca, cert: agent.options.cert, key: agent.options.key });
    secureContexts.set(agent, context);
  }
  return context;
}

const watchSessions = new WeakMap<https.Agent, Map<string, Buffer>>();

/** The TLS sessions watches of an agent resume, by host:port (the newest ticket of each). */
function sessionsOf(agent: https.Agent): Map<string, Buffer> {
  let sessions = watchSessions.get(agent);
  if (!sessions) watchSessions.set(agent, (sessions = new Map()));
  return sessions;
}

/** Opens the watch; returns a function that closes it. */
export function openWatchStream(baseUrl: string, agent: https.Agent, path: string, handlers: WatchStreamHandlers, headers: Record<string, string> = {}): () => void {
  let ended = false;
  const end = (error?: Error) => {
    if (ended) return;
    ended = true;
    handlers.onEnd(error);
  };
  // A watch holds its connection for minutes: it gets one of its own (same TLS credentials), so that many
  // watches never use up the pool that short requests share. It resumes the TLS session of an earlier
  // watch of the same agent, as the agent's own connections do: a watcher of hundreds of resources (the
  // garbage collector, one per custom resource type) then skips verifying certificates on each one.
  const url = new URL(path, baseUrl);
  const sessionKey = `${url.hostname}:${url.port}`;
  const request = https.request(url, {
    agent: false,
    secureContext: secureContextOf(agent),
    rejectUnauthorized: agent.options.rejectUnauthorized,
    servername: agent.options.servername,
    session: sessionsOf(agent).get(sessionKey),
    headers: { Accept: 'application/json', ...headers },
  } as https.RequestOptions);
  request.on('socket', (socket) => {
    socket.on('session', (session: Buffer) => sessionsOf(agent).set(sessionKey, session));
  });
  request.on('response', (response) => {
    if (response.statusCode !== 200) {
      response.resume();
      end(new Error(`watch ${path}: status ${response.statusCode}`));
      return;
    }
    let buffer = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) {
          try {
            const event = JSON.parse(line) as { type: WatchEventType; object: KubeObject };
            handlers.onEvent(event.type, event.object);
          } catch (error) {
            request.destroy();
            end(new Error(`watch ${path}: undecodable event: ${(error as Error).message}`));
            return;
          }
        }
        newline = buffer.indexOf('\n');
      }
    });
    response.on('end', () => end());
    response.on('error', (error) => end(error));
  });
  request.on('error', (error) => end(error));
  request.end();
  return () => {
    ended = true;
    request.destroy();
  };
}
