import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveSigningKey, EMPTY_SHA256, parseSigV4, verifySigV4 } from './engine.ts';

/**
 * Vectors from the AWS SigV4 test suite (aws-sig-v4-test-suite: credential AKIDEXAMPLE, region
 * us-east-1, service `service`, 2015-08-30T12:36:00Z, host example.amazonaws.com, signed headers
 * host;x-amz-date, empty body). The expected signatures are AWS's, not computed by this engine.
 */
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const NOW = Date.UTC(2015, 7, 30, 12, 36, 0);

const SUITE: readonly { name: string; method: string; target: string; signature: string }[] = [
  {
    name: 'get-vanilla',
    method: 'GET',
    target: '/',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'post-vanilla',
    method: 'POST',
    target: '/',
    signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
  },
  {
    name: 'get-vanilla-query',
    method: 'GET',
    target: '/?Param1=value1',
    signature: 'a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb',
  },
  {
    name: 'get-vanilla-query-order-key-case',
    method: 'GET',
    target: '/?Param2=value2&Param1=value1',
    signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
  },
  {
    name: 'get-unreserved',
    method: 'GET',
    target: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f',
  },
  // normalize-path/: these sign the same canonical URI `/` as get-vanilla.
  {
    name: 'normalize-path/get-relative-relative',
    method: 'GET',
    target: '/example1/example2/../..',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
  {
    name: 'normalize-path/get-slash-dot-slash',
    method: 'GET',
    target: '/./',
    signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
  },
];

function request(method: string, target: string, signature: string) {
  return {
    method,
    target,
    rawHeaders: [
      'Host',
      'example.amazonaws.com',
      'X-Amz-Date',
      '20150830T123600Z',
      'Authorization',
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    ],
  };
}

function verify(method: string, target: string, signature: string) {
  const input = request(method, target, signature);
  const parsed = parseSigV4(input);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return verifySigV4(input, parsed.auth, {
    secret: SECRET,
    payloadHash: EMPTY_SHA256,
    nowMs: NOW,
    clockSkewMs: 5 * 60_000,
    maxPresignedExpirySec: 900,
    region: 'us-east-1',
    service: 'service',
  });
}

describe('AWS SigV4 test suite', () => {
  for (const v of SUITE) {
    it(v.name, () => {
      assert.deepEqual(verify(v.method, v.target, v.signature), { ok: true });
    });
  }

  it('get-vanilla with the method changed no longer verifies', () => {
    const r = verify('HEAD', '/', SUITE[0]!.signature);
    assert.equal(r.ok, false);
  });

  it('derives the signing key of the AWS documentation example (iam, 20120215)', () => {
    const key = deriveSigningKey(SECRET, '20120215', 'us-east-1', 'iam');
    assert.equal(key.toString('hex'), 'f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
  });
});
