// An incremental parser for the HTTP/1.1 responses a backend sends the aggregator's proxy: the status line
// and header lines as they arrived, then the body by its framing (Content-Length, chunked, or until the
// connection closes), handed on chunk by chunk so watches stream. Node's own client does the same work
// with a ClientRequest, an IncomingMessage, a parser from its pool and a dozen listeners per request;
// on a keep-alive connection that churn was more than half of what a proxied GET cost the aggregator.

export interface ResponseHead {
  statusCode: number;
  statusMessage: string;
  /** Header lines as received, name then value, hop-by-hop ones included. */
  rawHeaders: string[];
  /** The connection may carry another request after this response. */
  keepAlive: boolean;
  /** The backend's `Keep-Alive: timeout=N`, in milliseconds: how long it keeps an idle connection. */
  keepAliveTimeoutMs: number | undefined;
  /** The Connection header's options, lowercased and comma-separated ('' without one). */
  connection: string;
  /** How the body is delimited. */
  framing: 'none' | 'length' | 'chunked' | 'close';
  contentLength: number;
}

export interface ResponseHandler {
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  onComplete(): void;
}

export class ProtocolError extends Error {}

const MAX_HEAD_BYTES = 1024 * 1024;
const MAX_LINE_BYTES = 8 * 1024;
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const LF = 10;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

export class ResponseParser {
  private state = State.Head;
  /** Unparsed head bytes, or the partial line of a chunk size or trailer. */
  private pending: Buffer | undefined;
  private remaining = 0;
  /** Bytes arrived after the end of the response (the connection cannot be reused). */
  extraneous = false;

  constructor(
    private readonly handler: ResponseHandler,
    /** A HEAD request's response has no body, whatever its headers say. */
    private readonly headRequest: boolean,
  ) {}

  get complete(): boolean {
    return this.state === State.Done;
  }

  /** True once any byte of the response arrived. */
  started = false;

  /** Feeds bytes from the connection; throws ProtocolError on a malformed response. */
  execute(data: Buffer): void {
    this.started = true;
    let offset = 0;
    while (offset < data.length) {
      switch (this.state) {
        case State.Head:
          offset = this.readHead(data, offset);
          break;
        case State.Length: {
          const take = Math.min(this.remaining, data.length - offset);
          this.remaining -= take;
          this.handler.onBody(offset === 0 && take === data.length ? data : data.subarray(offset, offset + take));
          offset += take;
          if (this.remaining === 0) this.finish();
          break;
        }
        case State.ChunkSize:
          offset = this.readLine(data, offset, (line) => {
            const semicolon = line.indexOf(';');
            const hex = (semicolon < 0 ? line : line.slice(0, semicolon)).trim();
            if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ProtocolError(`invalid chunk size ${JSON.stringify(hex)}`);
            this.remaining = parseInt(hex, 16);
            this.state = this.remaining === 0 ? State.Trailers : State.ChunkData;
          });
          break;
        case State.ChunkData: {
          const take = Math.min(this.remaining, data.length - offset);
          this.remaining -= take;
          this.handler.onBody(offset === 0 && take === data.length ? data : data.subarray(offset, offset + take));
          offset += take;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkDataEnd:
          offset = this.readLine(data, offset, (line) => {
            if (line !== '') throw new ProtocolError('chunk data not followed by CRLF');
            this.state = State.ChunkSize;
          });
          break;
        case State.Trailers:
          // Trailer fields are dropped (as the aggregator's proxy never declared it accepts them).
          offset = this.readLine(data, offset, (line) => {
            if (line === '') this.finish();
          });
          break;
        case State.UntilClose:
          this.handler.onBody(offset === 0 ? data : data.subarray(offset));
          offset = data.length;
          break;
        case State.Done:
          this.extraneous = true;
          return;
      }
    }
  }

  /** The connection closed: ends a body delimited by the close; anything else was cut short. */
  end(): void {
    if (this.state === State.UntilClose) {
      this.finish();
      return;
    }
    if (this.state !== State.Done) throw new ProtocolError(this.started ? 'the connection closed in the middle of the response' : 'socket hang up');
  }

  private finish(): void {
    this.state = State.Done;
    this.handler.onComplete();
  }

  private readHead(data: Buffer, offset: number): number {
    let buffer = data;
    let searchFrom = offset;
    if (this.pending) {
      searchFrom = Math.max(0, this.pending.length - 3);
      buffer = Buffer.concat([this.pending, offset === 0 ? data : data.subarray(offset)]);
      offset = 0;
      this.pending = undefined;
    }
    const end = buffer.indexOf(CRLF_CRLF, searchFrom);
    if (end < 0) {
      if (buffer.length - offset > MAX_HEAD_BYTES) throw new ProtocolError('response headers too large');
      this.pending = offset === 0 ? buffer : buffer.subarray(offset);
      return data.length;
    }
    const consumed = end + 4;
    this.parseHead(buffer.toString('latin1', offset, end));
    // Bytes past the head were in `data` at the same distance from its end.
    return data.length - (buffer.length - consumed);
  }

  private parseHead(text: string): void {
    const lines = text.split('\r\n');
    const status = lines[0];
    if (!status.startsWith('HTTP/1.') || status.length < 12 || status.charCodeAt(8) !== 32) throw new ProtocolError(`malformed status line ${JSON.stringify(status.slice(0, 100))}`);
    const minor = status.charCodeAt(7) - 48;
    const statusCode = Number(status.slice(9, 12));
    if (!(minor === 0 || minor === 1) || !(statusCode >= 100 && statusCode <= 999) || (status.length > 12 && status.charCodeAt(12) !== 32)) throw new ProtocolError(`malformed status line ${JSON.stringify(status.slice(0, 100))}`);
    if (statusCode < 200) {
      // Interim responses (100 Continue, 103 Early Hints) precede the real one; upgrades never come here.
      if (statusCode === 101) throw new ProtocolError('unexpected 101 Switching Protocols');
      return;
    }
    const rawHeaders: string[] = [];
    let contentLength: number | undefined;
    let transferEncoding: string | undefined;
    let connection = '';
    let keepAliveTimeoutMs: number | undefined;
    for (let index = 1; index < lines.length; index++) {
      const line = lines[index];
      const colon = line.indexOf(':');
      if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) throw new ProtocolError(`malformed header line ${JSON.stringify(line.slice(0, 100))}`);
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).trim();
      rawHeaders.push(name, value);
      switch (name.length) {
        case 10:
          if (name.toLowerCase() === 'connection') connection += `${connection ? ',' : ''}${value.toLowerCase()}`;
          else if (name.toLowerCase() === 'keep-alive') {
            const match = /(?:^|[\s,])timeout=(\d+)/i.exec(value);
            if (match) keepAliveTimeoutMs = Number(match[1]) * 1000;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') {
            if (!/^\d{1,15}$/.test(value)) throw new ProtocolError(`invalid Content-Length ${JSON.stringify(value)}`);
            const length = Number(value);
            if (contentLength !== undefined && contentLength !== length) throw new ProtocolError('conflicting Content-Length headers');
            contentLength = length;
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') transferEncoding = transferEncoding ? `${transferEncoding}, ${value}` : value;
          break;
      }
    }
    let framing: ResponseHead['framing'];
    if (this.headRequest || statusCode === 204 || statusCode === 304) framing = 'none';
    else if (transferEncoding !== undefined) framing = /(?:^|,)\s*chunked\s*$/i.test(transferEncoding) ? 'chunked' : 'close';
    else if (contentLength !== undefined) framing = contentLength === 0 ? 'none' : 'length';
    else framing = 'close';
    const tokens = connection.split(',').map((token) => token.trim());
    const keepAlive = framing !== 'close' && (minor === 1 ? !tokens.includes('close') : tokens.includes('keep-alive'));
    const head: ResponseHead = { statusCode, statusMessage: status.slice(13), rawHeaders, keepAlive, connection, keepAliveTimeoutMs, framing, contentLength: contentLength ?? -1 };
    this.state = framing === 'length' ? State.Length : framing === 'chunked' ? State.ChunkSize : framing === 'close' ? State.UntilClose : State.Done;
    this.remaining = framing === 'length' ? contentLength! : 0;
    this.handler.onHead(head);
    if (framing === 'none') this.handler.onComplete();
  }

  /** Reads up to the next LF (a chunk-size, chunk-end or trailer line, which may span reads). */
  private readLine(data: Buffer, offset: number, onLine: (line: string) => void): number {
    const newline = data.indexOf(LF, offset);
    if (newline < 0) {
      const rest = data.subarray(offset);
      this.pending = this.pending ? Buffer.concat([this.pending, rest]) : rest;
      if (this.pending.length > MAX_LINE_BYTES) throw new ProtocolError('chunk line too long');
      return data.length;
    }
    let line = data.toString('latin1', offset, newline);
    if (this.pending) {
      line = this.pending.toString('latin1') + line;
      this.pending = undefined;
    }
    if (line.endsWith('\r')) line = line.slice(0, -1);
    onLine(line);
    return newline + 1;
  }
}
