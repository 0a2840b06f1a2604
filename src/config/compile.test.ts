import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { RampartError } from '../core/errors.ts';
import { compileGateway } from './compile.ts';
import type { Gateway } from './gateway.ts';

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'rampart-compile-'));
for (const doc of ['petstore-3.0.yaml', 'petstore-3.1.json', 'no-security.yaml']) {
  copyFileSync(join(FIXTURES, 'openapi', doc), join(dir, doc));
}
after(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
function config(lines: readonly string[]): string {
  const file = join(dir, `rampart-${++count}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function compile(file: string): Gateway {
  return compileGateway(file, { openLogs: false });
}

async function compiled<T>(file: string, use: (gateway: Gateway) => T): Promise<T> {
  const gateway = compile(file);
  try {
    return use(gateway);
  } finally {
    await gateway.close();
  }
}

function refused(file: string): RampartError {
  try {
    const gateway = compile(file);
    void gateway.close();
  } catch (err) {
    if (err instanceof RampartError) return err;
    throw err;
  }
  return assert.fail('expected the config to be refused');
}

const PETS_MOCK = ['apis:', '  pets:', '    openapi: petstore-3.0.yaml', '    mock: true'];

describe('compileGateway', () => {
  it('compiles the minimal fixture with the defaults applied', async () => {
    await compiled(join(FIXTURES, 'config', 'minimal.yaml'), (gateway) => {
      assert.deepEqual(gateway.config.server.listen, [{ host: '127.0.0.1', port: 8080 }]);
      assert.deepEqual(gateway.listener.listeners, [{ host: '127.0.0.1', port: 8080 }]);
      assert.deepEqual(gateway.listener.limits, {
        maxUrlSize: 8 * 1024,
        maxHeaderSize: 16 * 1024,
        maxHeaderCount: 100,
        maxBodySize: 1024 * 1024,
      });
      assert.equal(gateway.listener.headersTimeout, 10_000);
      assert.equal(gateway.listener.requestTimeout, 60_000);
      assert.equal(gateway.listener.keepAliveTimeout, 5_000);
      assert.equal(gateway.listener.drainTimeout, 10_000);
      assert.deepEqual(gateway.files, [
        join(FIXTURES, 'config', 'minimal.yaml'),
        join(FIXTURES, 'openapi', 'petstore-3.0.yaml'),
      ]);
      assert.match(gateway.version, /^[0-9a-f]{12}$/);
    });
  });

  it('serves each OpenAPI operation as a route under the API base path', async () => {
    const file = config(['version: 1', ...PETS_MOCK, '    basePath: /v1']);
    await compiled(file, (gateway) => {
      assert.deepEqual(
        gateway.operations.map((o) => `${o.method} ${o.route} ${o.operationId} ${o.api.name}`),
        [
          'GET /v1/pets listPets pets',
          'POST /v1/pets createPet pets',
          'GET /v1/pets/{petId} GET /pets/{petId} pets',
          'GET /v1/categories listCategories pets',
        ],
      );
    });
  });

  describe('the compiled config is deeply frozen', () => {
    const file = config([
      'version: 1',
      'server:',
      '  trustedProxies: [10.0.0.0/8]',
      ...PETS_MOCK,
      '    operations:',
      '      listPets:',
      '        mock: true',
    ]);

    it('refuses writes at every depth (strict mode throws)', async () => {
      await compiled(file, (gateway) => {
        // biome-ignore lint/suspicious/noExplicitAny: the test tries writes the readonly types rightly forbid.
        const config = gateway.config as unknown as Record<string, any>;
        assert.throws(() => {
          config.version = 2;
        }, TypeError);
        assert.throws(() => {
          config.server.listen[0].host = '0.0.0.0';
        }, TypeError);
        assert.throws(() => {
          config.server.limits.maxBodySize = '1gb';
        }, TypeError);
        assert.throws(() => config.server.trustedProxies.push('0.0.0.0/0'), TypeError);
        assert.throws(() => {
          config.apis.pets.operations.listPets.mock = false;
        }, TypeError);
        assert.throws(() => {
          config.apis.extra = {};
        }, TypeError);
        assert.throws(() => {
          delete config.apis.pets;
        }, TypeError);
        assert.deepEqual(gateway.config.server.trustedProxies, ['10.0.0.0/8']);
        assert.equal(gateway.config.server.listen[0]!.host, '127.0.0.1');
      });
    });

    it('freezes the gateway and its lists too', async () => {
      await compiled(file, (gateway) => {
        assert.ok(Object.isFrozen(gateway));
        assert.ok(Object.isFrozen(gateway.operations));
        assert.ok(Object.isFrozen(gateway.operations[0]));
        assert.ok(Object.isFrozen(gateway.files));
        assert.throws(() => {
          (gateway as { version: string }).version = 'x';
        }, TypeError);
      });
    });
  });

  describe('refuses references to things that do not exist', () => {
    it('an unknown upstream on an API, at its `upstream` field', () => {
      const file = config([
        'version: 1',
        'upstreams:',
        '  backend:',
        '    url: http://127.0.0.1:3000',
        'apis:',
        '  pets:',
        '    openapi: petstore-3.0.yaml',
        '    upstream: backedn',
      ]);
      const err = refused(file);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE');
      assert.deepEqual(err.problems, [
        {
          location: { file, line: 8, column: 15 },
          field: 'apis.pets.upstream',
          message: 'no upstream named "backedn" (known: backend)',
        },
      ]);
    });

    it('an unknown upstream on an operation override, at that override', () => {
      const file = config([
        'version: 1',
        ...PETS_MOCK,
        '    operations:',
        '      createPet:',
        '        upstream: orders',
      ]);
      const err = refused(file);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE');
      assert.equal(err.problems[0]!.field, 'apis.pets.operations.createPet.upstream');
      assert.deepEqual(err.problems[0]!.location, { file, line: 8, column: 19 });
      assert.match(err.message, /no upstream named "orders" \(known: none\)/);
    });

    it('an override for an operationId the document does not declare, at the operationId', () => {
      const file = config([
        'version: 1',
        ...PETS_MOCK,
        '    operations:',
        '      listPet:',
        '        mock: false',
      ]);
      const err = refused(file);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE');
      assert.equal(err.problems[0]!.field, 'apis.pets.operations.listPet');
      assert.deepEqual(err.problems[0]!.location, { file, line: 7, column: 7 });
      assert.match(err.message, /has no operation with operationId "listPet"/);
    });
  });

  it('refuses an operation with neither an upstream nor a mock', () => {
    const file = config(['version: 1', 'apis:', '  pets:', '    openapi: petstore-3.0.yaml']);
    const err = refused(file);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE');
    assert.equal(err.problems[0]!.field, 'apis.pets');
    assert.deepEqual(err.problems[0]!.location, { file, line: 3, column: 3 });
    assert.match(err.message, /operation listPets has no integration: set `upstream` or `mock: true`/);
  });

  it('refuses an operation whose override turns the mock off without naming an upstream', () => {
    const file = config([
      'version: 1',
      ...PETS_MOCK,
      '    operations:',
      '      createPet:',
      '        mock: false',
    ]);
    const err = refused(file);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE');
    assert.match(err.message, /operation createPet has no integration/);
  });

  it('refuses a trusted proxy that is not a CIDR, naming its index', () => {
    const file = config([
      'version: 1',
      'server:',
      '  trustedProxies:',
      '    - 10.0.0.0/8',
      '    - 192.168.1.300/24',
      ...PETS_MOCK,
    ]);
    const err = refused(file);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_CIDR');
    assert.equal(err.problems[0]!.field, 'server.trustedProxies[1]');
    assert.deepEqual(err.problems[0]!.location, { file, line: 5, column: 7 });
    assert.match(err.message, /192\.168\.1\.300/);
  });

  for (const bad of ['10.0.0.0/33', '::1/129', '10.0.0.0/8/8', 'localhost']) {
    it(`refuses the trusted proxy "${bad}" rather than skipping it`, () => {
      const err = refused(config(['version: 1', 'server:', `  trustedProxies: ["${bad}"]`, ...PETS_MOCK]));
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_CIDR');
      assert.equal(err.problems[0]!.field, 'server.trustedProxies[0]');
    });
  }

  it('refuses a headers timeout longer than the request timeout', () => {
    const file = config([
      'version: 1',
      'server:',
      '  limits:',
      '    headersTimeout: 2m',
      '    requestTimeout: 30s',
      ...PETS_MOCK,
    ]);
    const err = refused(file);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SCHEMA');
    assert.equal(err.problems[0]!.field, 'server.limits.headersTimeout');
    assert.deepEqual(err.problems[0]!.location, { file, line: 4, column: 21 });
    assert.match(err.message, /must not be longer than server\.limits\.requestTimeout \(30s\)/);
  });

  describe('route clashes between APIs', () => {
    const twoApis = (extraA: string[], extraB: string[]) => [
      'version: 1',
      'apis:',
      '  pets:',
      '    openapi: petstore-3.0.yaml',
      '    basePath: /v1',
      '    mock: true',
      ...extraA,
      '  pets2:',
      '    openapi: petstore-3.1.json',
      '    basePath: /v1',
      '    mock: true',
      ...extraB,
    ];

    it('refuses two APIs declaring the same method and path under the same host and base path', () => {
      const err = refused(config(twoApis([], [])));
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE');
      assert.equal(err.problems[0]!.field, 'apis.pets2');
      assert.deepEqual(err.problems[0]!.location, {
        file: join(dir, 'petstore-3.1.json'),
        line: 6,
        column: 7,
      });
      assert.match(err.message, /route clash: GET \/v1\/pets/);
    });

    it('accepts the same paths when the APIs answer different hosts', async () => {
      const file = config(twoApis(['    hosts: [a.example.com]'], ['    hosts: [b.example.com]']));
      await compiled(file, (gateway) => assert.equal(gateway.operations.length, 6));
    });
  });

  describe('referenced files', () => {
    it('a missing OpenAPI document is RAMPART_ERR_CONFIG_FILE at the `openapi:` field of the config', () => {
      const file = config(['version: 1', 'apis:', '  pets:', '    openapi: gone.yaml', '    mock: true']);
      const err = refused(file);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_FILE');
      assert.equal(err.problems[0]!.field, 'apis.pets.openapi');
      assert.deepEqual(err.problems[0]!.location, { file, line: 4, column: 14 });
      assert.ok(err.problems[0]!.message.includes(join(dir, 'gone.yaml')));
      assert.match(err.format(), /ENOENT/);
    });

    it('an invalid OpenAPI document keeps its own file and line', () => {
      const doc = join(dir, 'bad-openapi.yaml');
      writeFileSync(doc, 'openapi: 3.0.3\ninfo: {title: t, version: "1"}\npaths:\n  /a:\n    get: {}\n');
      const err = refused(
        config(['version: 1', 'apis:', '  a:', '    openapi: bad-openapi.yaml', '    mock: true']),
      );
      assert.equal(err.code, 'RAMPART_ERR_OPENAPI_INVALID');
      assert.deepEqual(err.problems[0]!.location, { file: doc, line: 5, column: 10 });
    });

    it('a missing upstream CA file is RAMPART_ERR_CONFIG_FILE at its field', () => {
      const file = config([
        'version: 1',
        'upstreams:',
        '  backend:',
        '    url: https://127.0.0.1:3000',
        '    tls:',
        '      ca: no-ca.pem',
        ...PETS_MOCK,
      ]);
      const err = refused(file);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_FILE');
      assert.equal(err.problems[0]!.field, 'upstreams.backend.tls.ca');
      assert.deepEqual(err.problems[0]!.location, { file, line: 6, column: 11 });
    });

    it('a config file with a YAML error never reaches validation', () => {
      const err = refused(config(['version: 1', 'apis: !!js/function "x"']));
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
    });
  });

  describe('posture findings', () => {
    const file = config([
      'version: 1',
      'apis:',
      '  posture:',
      '    openapi: no-security.yaml',
      '    mock: true',
    ]);

    it('reports an operation without any security requirement as `operation-without-security`', async () => {
      await compiled(file, (gateway) => {
        const missing = gateway.findings.filter((f) => f.id === 'operation-without-security');
        assert.equal(missing.length, 1);
        const finding = missing[0]!;
        assert.equal(finding.id, 'operation-without-security');
        assert.equal(finding.severity, 'high');
        assert.deepEqual(finding.location, { file: join(dir, 'no-security.yaml'), line: 9, column: 5 });
        assert.match(finding.message, /GET \/open \(forgotten\) declares no security requirement/);
      });
    });

    it('reports nothing for `security: [{}]` (anonymous on purpose) or a declared requirement', async () => {
      await compiled(file, (gateway) => {
        const flagged = gateway.findings
          .filter((f) => f.id === 'operation-without-security')
          .map((f) => f.message);
        assert.ok(!flagged.some((m) => /\((anonymous|secured)\)/.test(m)), flagged.join('\n'));
      });
    });

    it('reports a requirement this build cannot verify as critical `security-not-enforceable`', async () => {
      await compiled(file, (gateway) => {
        const critical = gateway.findings.filter((f) => f.id === 'security-not-enforceable');
        assert.deepEqual(
          critical.map((f) => f.severity),
          ['critical'],
        );
        assert.match(critical[0]!.message, /\(secured\) requires .*refused with 401/);
      });
    });

    it('reports `security: []` (at the root or on an operation) as declaring nothing', async () => {
      writeFileSync(
        join(dir, 'empty-security.yaml'),
        [
          'openapi: 3.1.0',
          'info: { title: t, version: "1" }',
          'security: []',
          'paths:',
          '  /inherits:',
          '    get:',
          '      responses: { "200": { description: ok } }',
          '  /drops:',
          '    get:',
          '      security: []',
          '      responses: { "200": { description: ok } }',
          '  /anonymous:',
          '    get:',
          '      security: [{}]',
          '      responses: { "200": { description: ok } }',
          '',
        ].join('\n'),
      );
      const empty = config([
        'version: 1',
        'apis:',
        '  e:',
        '    openapi: empty-security.yaml',
        '    mock: true',
      ]);
      await compiled(empty, (gateway) => {
        assert.deepEqual(
          gateway.findings.map((f) => `${f.id} ${f.location.line}`),
          ['operation-without-security 6', 'operation-without-security 9'],
        );
      });
    });

    it('reports no missing requirement when the document declares security for every operation', async () => {
      await compiled(config(['version: 1', ...PETS_MOCK]), (gateway) =>
        assert.deepEqual(
          gateway.findings.filter((f) => f.id === 'operation-without-security'),
          [],
        ),
      );
    });
  });
});

describe('compileGateway: TLS material is parsed at load', () => {
  const KEY_TEXT = 'not-a-pem-key-but-secret-looking-0123456789';

  it('refuses a listener key that is not PEM, at the tls field, without echoing the key', () => {
    writeFileSync(join(dir, 'bad-cert.pem'), 'not a certificate\n');
    writeFileSync(join(dir, 'bad-key.pem'), `${KEY_TEXT}\n`);
    const file = config([
      'version: 1',
      'server:',
      '  listen:',
      '    - port: 8443',
      '      tls:',
      '        cert: bad-cert.pem',
      '        key: file:bad-key.pem',
      ...PETS_MOCK,
    ]);
    const err = refused(file);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_FILE');
    assert.equal(err.problems[0]!.field, 'server.listen[0].tls');
    assert.equal(err.problems[0]!.location.line, 6);
    assert.match(err.problems[0]!.message, /listener certificate and key cannot be used/);
    assert.ok(!err.format().includes(KEY_TEXT));
  });

  it('refuses an upstream client certificate without its key', () => {
    writeFileSync(join(dir, 'client-cert.pem'), 'x\n');
    const file = config([
      'version: 1',
      'upstreams:',
      '  orders:',
      '    url: https://127.0.0.1:9',
      '    tls:',
      '      cert: client-cert.pem',
      ...PETS_MOCK,
    ]);
    const err = refused(file);
    assert.equal(err.problems[0]!.field, 'upstreams.orders.tls');
    assert.match(err.problems[0]!.message, /needs its key/);
  });

  it('refuses an upstream CA file that is not PEM', () => {
    writeFileSync(join(dir, 'bad-ca.pem'), 'garbage\n');
    const file = config([
      'version: 1',
      'upstreams:',
      '  orders:',
      '    url: https://127.0.0.1:9',
      '    tls:',
      '      ca: bad-ca.pem',
      ...PETS_MOCK,
    ]);
    const err = refused(file);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_FILE');
    assert.match(err.problems[0]!.message, /upstream CA, certificate or key cannot be used/);
  });
});
