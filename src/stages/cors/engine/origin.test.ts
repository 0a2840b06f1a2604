import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OriginRule, originAllowed, parseOrigin, parseOriginRule } from './origin.ts';

function compile(entries: string[]): { rules: OriginRule[]; exact: Set<string> } {
  const rules: OriginRule[] = [];
  const exact = new Set<string>();
  for (const entry of entries) {
    const parsed = parseOriginRule(entry);
    if (!parsed.ok) throw new Error(`${entry}: ${parsed.reason}`);
    rules.push(parsed.rule);
    if (parsed.rule.kind === 'exact') exact.add(parsed.rule.origin);
  }
  return { rules, exact };
}

function allowed(entries: string[], origin: string): boolean {
  const { rules, exact } = compile(entries);
  return originAllowed(rules, exact, origin);
}

describe('origin parsing (config)', () => {
  it('normalizes case and default ports to the serialized origin', () => {
    const cases: [string, string][] = [
      ['HTTPS://App.Example.COM', 'https://app.example.com'],
      ['https://example.com:443', 'https://example.com'],
      ['http://example.com:80', 'http://example.com'],
      ['http://localhost:3000', 'http://localhost:3000'],
      ['https://example.com:8443', 'https://example.com:8443'],
      ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
      ['http://[::1]:3000', 'http://[::1]:3000'],
      ['https://xn--bcher-kva.example', 'https://xn--bcher-kva.example'],
      ['capacitor://localhost', 'capacitor://localhost'],
    ];
    for (const [input, origin] of cases) {
      const parsed = parseOriginRule(input);
      assert.ok(parsed.ok, `${input}: ${parsed.ok ? '' : parsed.reason}`);
      assert.deepEqual(parsed.rule, { kind: 'exact', origin }, input);
    }
  });

  it('refuses what is not an origin, saying why', () => {
    const cases: [string, RegExp][] = [
      ['https://example.com/', /path, query or fragment \(or a trailing slash\)/],
      ['https://example.com/app', /path/],
      ['https://example.com?x=1', /query/],
      ['https://example.com#x', /fragment/],
      ['example.com', /not an origin/],
      ['//example.com', /not an origin/],
      ['https://user@example.com', /user information/],
      ['https://exa mple.com', /invalid host/],
      ['https://-bad.example.com', /invalid host/],
      ['https://example..com', /invalid host/],
      ['https://example.com:0', /invalid port/],
      ['https://example.com:65536', /invalid port/],
      ['https://example.com:08080', /invalid port/],
      ['https://example.com:', /invalid port/],
      ['https://example.123', /invalid host/],
      ['http://[::1', /unterminated IPv6/],
      ['https://bücher.example', /punycode/],
      ['null', /null origin/],
      ['NULL', /null origin/],
      [' https://example.com', /white space/],
      ['https://*example.com', /misplaced wildcard/],
      ['https://api.*.example.com', /misplaced wildcard/],
      ['https://*.*.example.com', /misplaced wildcard/],
      ['*://example.com', /misplaced wildcard/],
      ['https://example.com:*', /misplaced wildcard/],
      ['https://*.com', /top-level domain/],
      ['https://*.10.0.0', /IP address/],
      ['ftp://*.example.com', /scheme other than http/],
      ['https://example.*', /misplaced wildcard/],
    ];
    for (const [input, reason] of cases) {
      const parsed = parseOriginRule(input);
      assert.equal(parsed.ok, false, `${input} should be refused`);
      if (!parsed.ok) assert.match(parsed.reason, reason, input);
    }
  });

  it('tells canonical request origins from equivalent spellings', () => {
    assert.equal(parseOrigin('https://example.com').canonical, true);
    assert.equal(parseOrigin('https://Example.com').canonical, false);
    assert.equal(parseOrigin('https://example.com:443').canonical, false);
  });
});

describe('origin matching (requests)', () => {
  const exact = ['https://app.example.com', 'http://localhost:3000'];
  const pattern = ['https://*.example.com'];

  it('allows exactly the listed origins', () => {
    assert.equal(allowed(exact, 'https://app.example.com'), true);
    assert.equal(allowed(exact, 'http://localhost:3000'), true);
  });

  it('refuses suffix and prefix confusables of a listed origin', () => {
    for (const origin of [
      'https://app.example.com.evil.com',
      'https://evilapp.example.com',
      'https://app.example.co',
      'https://app.example.comm',
      'https://app-example.com',
      'http://app.example.com', // scheme is exact
      'https://app.example.com:8443', // port is exact
      'http://localhost:30000',
      'http://localhost',
    ]) {
      assert.equal(allowed(exact, origin), false, origin);
    }
  });

  it('refuses non-canonical spellings instead of normalizing and echoing them', () => {
    for (const origin of [
      'HTTPS://APP.EXAMPLE.COM',
      'https://App.example.com',
      'https://app.example.com:443',
      'https://app.example.com/',
      'https://app.example.com/path',
      'https://app.example.com ',
      ' https://app.example.com',
      'https://app.example.com, https://evil.com',
      'https://app.example.com\u0000',
    ]) {
      assert.equal(allowed(exact, origin), false, JSON.stringify(origin));
      assert.equal(allowed(pattern, origin.replace('app.', 'x.')), false, JSON.stringify(origin));
    }
  });

  it('never allows the null origin, and refuses it in config', () => {
    assert.equal(allowed(exact, 'null'), false);
    assert.equal(allowed(pattern, 'null'), false);
    assert.equal(parseOriginRule('null').ok, false);
  });

  it('matches one label, and only one, in front of the pattern domain', () => {
    assert.equal(allowed(pattern, 'https://a.example.com'), true);
    assert.equal(allowed(pattern, 'https://xn--bcher-kva.example.com'), true);
    assert.equal(allowed(pattern, 'https://a-b-1.example.com'), true);
    for (const origin of [
      'https://example.com', // the bare domain is not "one label in front"
      'https://a.b.example.com', // two labels
      'https://.example.com',
      'https://evilexample.com',
      'https://a.example.com.evil.com',
      'https://a.evil-example.com',
      'http://a.example.com',
      'https://a.example.com:8443',
      'https://-a.example.com',
      'https://a_b.example.com',
      'https://bücher.example.com',
    ]) {
      assert.equal(allowed(pattern, origin), false, origin);
    }
  });

  it('keeps the pattern port exact', () => {
    assert.equal(allowed(['https://*.example.com:8443'], 'https://a.example.com:8443'), true);
    assert.equal(allowed(['https://*.example.com:8443'], 'https://a.example.com'), false);
  });

  it('allows anything with *, which answers with the literal * (reflecting nothing)', () => {
    assert.equal(allowed(['*'], 'https://anything.test'), true);
    assert.equal(allowed(['*'], 'null'), true);
  });
});
