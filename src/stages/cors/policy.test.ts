import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { YamlSource } from '../../config/yaml-source.ts';
import { RampartError } from '../../core/errors.ts';
import type { OpenApiDocument, OpenApiOperation } from '../../openapi/document.ts';
import { type CorsConfigT, compileCorsOrigins, corsPolicyFor } from './policy.ts';

const source: YamlSource = {
  file: 'rampart.yaml',
  data: {},
  locate: () => ({ file: 'rampart.yaml', line: 1 }),
};

function op(method: string, path: string, operation: Record<string, unknown>, security?: object[]) {
  return {
    operationId: `${method} ${path}`,
    method,
    path,
    operation,
    security,
    location: { file: 'openapi.yaml' },
  } as unknown as OpenApiOperation;
}

const DOC = {
  file: 'openapi.yaml',
  version: '3.1',
  document: {
    paths: {
      '/things': {
        parameters: [
          { name: 'X-Tenant', in: 'header' },
          { name: 'q', in: 'query' },
        ],
      },
    },
  },
  securitySchemes: {
    bearer: { type: 'http', scheme: 'bearer' },
    key: { type: 'apiKey', in: 'header', name: 'X-Key' },
    cookie: { type: 'apiKey', in: 'cookie', name: 'sid' },
    sigv4: {
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      'x-amazon-apigateway-authtype': 'awsSigv4',
    },
    mtls: { type: 'mutualTLS' },
  },
  operations: [
    op(
      'GET',
      '/things',
      {
        parameters: [{ name: 'If-None-Match', in: 'header' }],
        responses: { '200': { headers: { ETag: {}, 'Content-Type': {} } } },
      },
      [{ bearer: [] }, { cookie: [] }],
    ),
    op('PUT', '/things', { requestBody: { content: {} } }, [{ sigv4: [] }]),
    op('DELETE', '/other', {}, [{ key: [] }, { mtls: [] }]),
  ],
} as unknown as OpenApiDocument;

const BASE: CorsConfigT = {
  allowOrigins: ['https://a.example'],
  allowCredentials: false,
  maxAge: '10m',
  mode: 'enforce',
};

describe('CORS policy derived from the OpenAPI document', () => {
  const origins = compileCorsOrigins('t', BASE, source, []);

  it('allows the methods, header parameters, scheme headers and Content-Type of the path', () => {
    const policy = corsPolicyFor(origins, BASE, DOC, '/things');
    assert.equal(policy.allowMethods, 'GET, PUT');
    assert.deepEqual([...policy.headers].sort(), [
      'accept',
      'accept-language',
      'authorization',
      'content-language',
      'content-type',
      'if-none-match',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-security-token',
      'x-tenant',
    ]);
    assert.equal(policy.exposeHeaders, 'etag', 'declared response headers, never Content-Type');
    assert.equal(policy.maxAge, '600');
  });

  it('keeps each path to its own operations', () => {
    const policy = corsPolicyFor(origins, BASE, DOC, '/other');
    assert.equal(policy.allowMethods, 'DELETE');
    assert.ok(policy.headers.has('x-key'));
    assert.ok(!policy.headers.has('authorization'));
    assert.ok(!policy.headers.has('content-type'), 'no request body on the path');
  });

  it('lets allowMethods only narrow, and allowHeaders / exposeHeaders replace', () => {
    const cors = {
      ...BASE,
      allowMethods: ['GET', 'PATCH'],
      allowHeaders: ['X-Only'],
      exposeHeaders: ['X-Seen'],
    };
    const policy = corsPolicyFor(origins, cors, DOC, '/things');
    assert.equal(policy.allowMethods, 'GET', 'PATCH is not declared on the path');
    assert.deepEqual([...policy.headers].sort(), ['accept', 'accept-language', 'content-language', 'x-only']);
    assert.equal(policy.exposeHeaders, 'x-seen');
  });

  it('refuses * with credentials and an over-long max-age at load', () => {
    assert.throws(
      () => compileCorsOrigins('t', { ...BASE, allowOrigins: ['*'], allowCredentials: true }, source, []),
      RampartError,
    );
    assert.throws(() => compileCorsOrigins('t', { ...BASE, maxAge: '25h' }, source, []), RampartError);
  });
});
