// /openapi/v2, merged lazily and only when asked for (kubectl 1.27 downloads it as protobuf before every
// apply/create/explain; newer clients use v3). It is converted from the per-group-version v3 documents the
// backends already serve, fetched by their hash URLs, and cached until any of those hashes changes.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { openApiV2FromV3 } from '../apiserver/openapi/v2.js';
import { encodeOpenApiV2Protobuf } from '../apiserver/openapi/v2-protobuf.js';
import { notAcceptable, serviceUnavailable } from '../apiserver/request/status.js';
import { writeStatusError } from '../apiserver/request/response.js';
import { parseMediaTypes } from '../apiserver/request/negotiation.js';
import { etagOf } from '../apiserver/request/cached-document.js';
import { fetchFromBackend } from './backend-client.js';
import type { MergedOpenApi } from './merged-openapi.js';

const PROTOBUF_TYPES = ['application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'];
const PROTOBUF_RESPONSE_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

interface Built {
  key: string;
  json: string;
  protobuf?: Buffer;
  etag: string;
}

export class MergedOpenApiV2 {
  private built: Built | undefined;
  private building: Promise<Built> | undefined;

  constructor(private readonly v3: MergedOpenApi) {}

  private async build(): Promise<Built> {
    const entries = this.v3.entries();
    const key = entries.map(([path, entry]) => `${path}=${entry.url}`).join('\n');
    if (this.built?.key === key) return this.built;
    const documents = await Promise.all(
      entries.map(async ([path, entry]) => {
        if (entry.target.inProcess) {
          const bytes = entry.target.inProcess.openapiDocument(path);
          if (!bytes) throw new Error(`${path}: ${entry.target.name} has no such document`);
          return JSON.parse(bytes) as Record<string, unknown>;
        }
        const result = await fetchFromBackend(entry.target.url, entry.target.agent, entry.url, { Accept: 'application/json' }, 10_000);
        if (result.status !== 200) throw new Error(`${path}: ${entry.target.name} answered ${result.status}`);
        return JSON.parse(result.body) as Record<string, unknown>;
      }),
    );
    const json = JSON.stringify(openApiV2FromV3(documents));
    this.built = { key, json, etag: etagOf(json) };
    return this.built;
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const types = parseMediaTypes(req.headers.accept);
    const wantsProtobuf = types.length > 0 && PROTOBUF_TYPES.includes(types[0].type);
    const acceptsJson = types.length === 0 || types.some((media) => ['application/json', '*/*', 'application/*'].includes(media.type));
    if (!wantsProtobuf && !acceptsJson && !types.some((media) => PROTOBUF_TYPES.includes(media.type))) {
      writeStatusError(res, notAcceptable(['application/json', PROTOBUF_RESPONSE_TYPE]));
      return;
    }
    let built: Built;
    try {
      this.building ??= this.build().finally(() => (this.building = undefined));
      built = await this.building;
    } catch (error) {
      writeStatusError(res, serviceUnavailable(`the OpenAPI v2 document could not be assembled: ${(error as Error).message}`, 1));
      return;
    }
    const protobuf = wantsProtobuf || !acceptsJson;
    res.setHeader('Vary', 'Accept');
    res.setHeader('Etag', built.etag);
    if (req.headers['if-none-match'] === built.etag) {
      res.statusCode = 304;
      res.end();
      return;
    }
    let body: Buffer | string = built.json;
    if (protobuf) {
      built.protobuf ??= encodeOpenApiV2Protobuf(JSON.parse(built.json) as Record<string, unknown>);
      body = built.protobuf;
    }
    res.statusCode = 200;
    res.setHeader('Content-Type', protobuf ? PROTOBUF_RESPONSE_TYPE : 'application/json');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  }
}
