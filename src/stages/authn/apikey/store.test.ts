import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashSecret, parseApiKey } from './format.ts';
import { KeyStateError, KeyStore, KeyStoreWatcher, keyStatus, updateKeyStore } from './store.ts';
import { unsealSigV4Secret } from './verify.ts';

const PEPPER = 'a-test-pepper-of-at-least-32-bytes!!';
const NOW = Date.parse('2025-03-01T12:00:00.000Z');
const HOUR = 3_600_000;

function tokenOf(secret: { kind: string; token?: string }): string {
  assert.equal(secret.kind, 'apiKey');
  return secret.token!;
}

describe('KeyStore', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-keystore-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an API key record holding only the keyed hash of the secret', () => {
    const empty = new KeyStore([]);
    const issued = empty.create(
      { kind: 'apiKey', owner: 'alice', scopes: ['read', 'write', 'read'], plan: 'pro' },
      PEPPER,
      NOW,
    );
    const parsed = parseApiKey(tokenOf(issued.secret))!;
    assert.equal(issued.record.id, parsed.id);
    assert.equal(issued.record.hash, hashSecret(PEPPER, parsed.secret));
    assert.deepEqual(issued.record.scopes, ['read', 'write']);
    assert.equal(issued.record.createdAt, '2025-03-01T12:00:00.000Z');
    assert.ok(!JSON.stringify(issued.store).includes(parsed.secret));
    assert.equal(empty.list().length, 0, 'mutations return a new store');
    assert.equal(issued.store.get(parsed.id), issued.record);
  });

  it('creates a SigV4 key whose secret is sealed under the pepper', () => {
    const issued = new KeyStore([]).create({ kind: 'sigv4', owner: 'ci' }, PEPPER, NOW);
    assert.equal(issued.secret.kind, 'sigv4');
    if (issued.secret.kind !== 'sigv4') return;
    assert.equal(issued.record.id, issued.secret.accessKeyId);
    assert.equal(issued.record.hash, undefined);
    assert.ok(!JSON.stringify(issued.store).includes(issued.secret.secretAccessKey));
    assert.equal(unsealSigV4Secret(issued.record, PEPPER), issued.secret.secretAccessKey);
    assert.throws(() => unsealSigV4Secret(issued.record, `${PEPPER}x`), /does not open with this pepper/);
    assert.throws(() => unsealSigV4Secret({ ...issued.record, kind: 'apiKey' }, PEPPER), /not a SigV4 key/);
  });

  it('refuses a short pepper and invalid fields at creation', () => {
    const store = new KeyStore([]);
    assert.throws(() => store.create({ kind: 'apiKey', owner: 'a' }, 'short', NOW), /at least 32 bytes/);
    assert.throws(() => store.create({ kind: 'apiKey', owner: 'evil\r\nx-admin: 1' }, PEPPER, NOW), /owner/);
    assert.throws(() => store.create({ kind: 'apiKey', owner: 'a', scopes: ['a b'] }, PEPPER, NOW), /scopes/);
  });

  it('saves atomically with mode 0600 and loads back the same records', () => {
    const file = join(dir, 'roundtrip.json');
    const issued = new KeyStore([]).create(
      { kind: 'apiKey', owner: 'bob', description: 'test key' },
      PEPPER,
      NOW,
    );
    issued.store.save(file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('.')),
      [],
      'no temp file left',
    );
    const loaded = KeyStore.load(file);
    assert.deepEqual(loaded.list(), issued.store.list());
    const data = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(data.version, 1);
    assert.deepEqual(Object.keys(data.keys[0]), [
      'id',
      'kind',
      'hash',
      'owner',
      'scopes',
      'createdAt',
      'description',
    ]);
  });

  it('treats a missing file as empty only when allowed', () => {
    const file = join(dir, 'missing.json');
    assert.throws(() => KeyStore.load(file), /missing\.json: cannot read file \(ENOENT\)/);
    assert.equal(KeyStore.load(file, { allowMissing: true }).list().length, 0);
  });

  describe('refuses an invalid file, naming the file, record and field', () => {
    const good = {
      id: 'abcdefghijklmnop',
      kind: 'apiKey',
      hash: 'a'.repeat(64),
      owner: 'alice',
      scopes: ['read'],
      createdAt: '2025-01-01T00:00:00.000Z',
    };
    const cases: [string, unknown, RegExp][] = [
      ['not JSON', '{', /not valid JSON/],
      ['not an object', [], /must be an object/],
      ['wrong version', { version: 2, keys: [] }, /version: must be 1/],
      ['unknown top-level field', { version: 1, keys: [], extra: 1 }, /extra: unknown field/],
      ['keys not a list', { version: 1, keys: {} }, /keys: must be a list/],
      ['record not an object', { version: 1, keys: ['x'] }, /keys\[0\]: must be an object/],
      [
        'unknown record field',
        { version: 1, keys: [{ ...good, secret: 'x' }] },
        /keys\[0\]\.secret: unknown field/,
      ],
      ['bad kind', { version: 1, keys: [{ ...good, kind: 'jwt' }] }, /keys\[0\]\.kind/],
      ['bad id', { version: 1, keys: [good, { ...good, id: 'ABCDEFGHIJKLMNOP' }] }, /keys\[1\]\.id/],
      ['bad hash', { version: 1, keys: [{ ...good, hash: 'A'.repeat(64) }] }, /keys\[0\]\.hash/],
      ['missing hash', { version: 1, keys: [{ ...good, hash: undefined }] }, /keys\[0\]\.hash/],
      ['sealed on an apiKey', { version: 1, keys: [{ ...good, sealed: 'x' }] }, /keys\[0\]\.sealed/],
      ['control char in owner', { version: 1, keys: [{ ...good, owner: 'a\nb' }] }, /keys\[0\]\.owner/],
      ['scopes not a list', { version: 1, keys: [{ ...good, scopes: 'read' }] }, /keys\[0\]\.scopes/],
      ['bad createdAt', { version: 1, keys: [{ ...good, createdAt: '2025-01-01' }] }, /keys\[0\]\.createdAt/],
      [
        'impossible date',
        { version: 1, keys: [{ ...good, expiresAt: '2025-02-30T00:00:00.000Z' }] },
        /keys\[0\]\.expiresAt/,
      ],
      [
        'duplicate id',
        { version: 1, keys: [good, good] },
        /keys\[1\]\.id: abcdefghijklmnop appears more than once/,
      ],
      [
        'dangling replacedBy',
        { version: 1, keys: [{ ...good, replacedBy: 'zzzzzzzzzzzzzzzz' }] },
        /keys\[0\]\.replacedBy/,
      ],
      [
        'sigv4 without sealed',
        { version: 1, keys: [{ ...good, kind: 'sigv4', id: 'RKABCDEFGHIJKLMNOPQR', hash: undefined }] },
        /keys\[0\]\.sealed/,
      ],
    ];
    for (const [name, content, pattern] of cases) {
      it(name, () => {
        const file = join(dir, 'bad.json');
        writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
        assert.throws(
          () => KeyStore.load(file),
          (err: Error) => {
            assert.match(err.message, /^key store .*bad\.json: /);
            assert.match(err.message, pattern);
            return true;
          },
        );
      });
    }
  });

  it('revokes a key (idempotently) and refuses unknown ids', () => {
    const { store, record } = new KeyStore([]).create({ kind: 'apiKey', owner: 'a' }, PEPPER, NOW);
    const revoked = store.revoke(record.id, NOW + HOUR);
    assert.equal(revoked.get(record.id)!.revokedAt, '2025-03-01T13:00:00.000Z');
    assert.equal(keyStatus(revoked.get(record.id)!, NOW + HOUR), 'revoked');
    assert.equal(store.get(record.id)!.revokedAt, undefined);
    assert.equal(revoked.revoke(record.id, NOW + 2 * HOUR), revoked);
    assert.throws(() => store.revoke('zzzzzzzzzzzzzzzz', NOW), KeyStateError);
  });

  it('rotates: same owner, scopes, plan and lifetime; the old key ends after the overlap', () => {
    const created = new KeyStore([]).create(
      {
        kind: 'apiKey',
        owner: 'a',
        scopes: ['s'],
        plan: 'gold',
        expiresAt: new Date(NOW + 90 * 24 * HOUR).toISOString(),
      },
      PEPPER,
      NOW,
    );
    const later = NOW + 10 * 24 * HOUR;
    const rotated = created.store.rotate(created.record.id, 24 * HOUR, later, PEPPER);
    const old = rotated.store.get(created.record.id)!;
    const fresh = rotated.record;
    assert.notEqual(fresh.id, old.id);
    assert.equal(old.replacedBy, fresh.id);
    assert.equal(old.expiresAt, new Date(later + 24 * HOUR).toISOString());
    assert.deepEqual([fresh.kind, fresh.owner, fresh.scopes, fresh.plan], ['apiKey', 'a', ['s'], 'gold']);
    assert.equal(fresh.expiresAt, new Date(later + 90 * 24 * HOUR).toISOString());
    assert.equal(keyStatus(old, later), 'rotating');
    assert.equal(keyStatus(old, later + 24 * HOUR), 'expired');
    assert.equal(keyStatus(fresh, later), 'active');
    assert.equal(rotated.secret.kind, 'apiKey');
    assert.throws(() => rotated.store.rotate(old.id, HOUR, later, PEPPER), /already rotated/);
  });

  it('rotation never extends the old key past its own expiry, and refuses dead keys', () => {
    const c = new KeyStore([]).create(
      { kind: 'sigv4', owner: 'a', expiresAt: new Date(NOW + HOUR).toISOString() },
      PEPPER,
      NOW,
    );
    const r = c.store.rotate(c.record.id, 24 * HOUR, NOW, PEPPER);
    assert.equal(r.store.get(c.record.id)!.expiresAt, new Date(NOW + HOUR).toISOString());
    assert.equal(r.record.kind, 'sigv4');
    assert.throws(() => c.store.rotate(c.record.id, HOUR, NOW + HOUR, PEPPER), /has expired/);
    assert.throws(
      () => c.store.revoke(c.record.id, NOW).rotate(c.record.id, HOUR, NOW, PEPPER),
      /is revoked/,
    );
  });

  it('updateKeyStore holds a lock file and does not save when the change fails', () => {
    const file = join(dir, 'locked.json');
    const id = updateKeyStore(file, (s) => {
      const issued = s.create({ kind: 'apiKey', owner: 'a' }, PEPPER, NOW);
      assert.throws(() => updateKeyStore(file, (t) => ({ store: t, result: 0 })), /locked by another writer/);
      return { store: issued.store, result: issued.record.id };
    });
    assert.ok(KeyStore.load(file).get(id));
    assert.throws(
      () =>
        updateKeyStore(file, () => {
          throw new KeyStateError('nope');
        }),
      /nope/,
    );
    assert.equal(KeyStore.load(file).list().length, 1);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith('locked.json.')),
      [],
      'lock removed',
    );
  });
});

describe('KeyStoreWatcher', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-keywatch-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fails at construction when the first read fails, unless a missing file is allowed', () => {
    assert.throws(() => new KeyStoreWatcher(join(dir, 'none.json')), /ENOENT/);
    writeFileSync(join(dir, 'broken.json'), '{');
    assert.throws(() => new KeyStoreWatcher(join(dir, 'broken.json')), /not valid JSON/);
    const w = new KeyStoreWatcher(join(dir, 'none.json'), { allowMissing: true });
    assert.equal(w.current()!.list().length, 0);
  });

  it('picks up changes, fails closed on a bad file (reporting once), and recovers', () => {
    const file = join(dir, 'keys.json');
    const first = new KeyStore([]).create({ kind: 'apiKey', owner: 'a' }, PEPPER, NOW);
    first.store.save(file);
    const errors: string[] = [];
    let reloads = 0;
    const w = new KeyStoreWatcher(file, {
      onError: (e) => errors.push(e.message),
      onReload: () => reloads++,
    });
    assert.ok(w.current()!.get(first.record.id));

    w.checkNow();
    assert.equal(reloads, 0, 'an unchanged file is not re-read');

    const second = first.store.create({ kind: 'apiKey', owner: 'b' }, PEPPER, NOW);
    second.store.save(file);
    w.checkNow();
    assert.equal(reloads, 1);
    assert.ok(w.current()!.get(second.record.id));

    writeFileSync(file, '{"version":1,"keys":[{"id":"bad"}]}');
    w.checkNow();
    w.checkNow();
    assert.equal(w.current(), null, 'unavailable, not the last good copy');
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /keys\[0\]/);

    second.store.save(file);
    w.checkNow();
    assert.ok(w.current()!.get(second.record.id));

    rmSync(file);
    w.checkNow();
    assert.equal(w.current(), null, 'a deleted store is unavailable');
    assert.equal(errors.length, 2);
  });

  it("polls on an unref'd timer once started, until closed", async () => {
    const file = join(dir, 'polled.json');
    new KeyStore([]).save(file);
    const w = new KeyStoreWatcher(file, { intervalMs: 10 });
    w.start();
    w.start();
    try {
      const issued = w.current()!.create({ kind: 'apiKey', owner: 'a' }, PEPPER, NOW);
      issued.store.save(file);
      for (let i = 0; i < 100 && !w.current()?.get(issued.record.id); i++) await sleep(10);
      assert.ok(w.current()!.get(issued.record.id));
    } finally {
      w.close();
    }
    writeFileSync(file, 'garbage');
    await sleep(50);
    assert.ok(w.current(), 'no polling after close');
  });
});
