import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRuleSet, type RequestInput } from './index.ts';
import { testRegistry } from './testing/registry.ts';

const GET: RequestInput = {
  method: 'GET',
  uri: '/a/b.php?q=Hello&x=1&x=2',
  protocol: 'HTTP/1.1',
  headers: [
    ['Host', 'example.com'],
    ['User-Agent', 'curl/8'],
    ['Cookie', 'sid=abc; __utma=1'],
  ],
  remoteAddr: '10.0.0.1',
};

function run(rules: string, req: RequestInput = GET, body = '', mode: 'On' | 'DetectionOnly' = 'On') {
  const registry = testRegistry();
  const rs = loadRuleSet({ extra: [{ file: '/etc/rules.conf', text: rules }], registry, ruleEngine: mode });
  const tx = rs.newTransaction(req);
  tx.processRequestHeaders();
  tx.processRequestBody(body);
  return { tx, ids: tx.matchedRules.map((m) => m.id), registry };
}

test('request variables: args, headers, cookies, filename, counting', () => {
  const { ids, tx } = run(`
SecRule ARGS:q "@streq Hello" "id:1,phase:1,pass"
SecRule &ARGS:x "@eq 2" "id:2,phase:1,pass"
SecRule REQUEST_HEADERS:user-agent "@rx ^curl" "id:3,phase:1,pass"
SecRule REQUEST_COOKIES_NAMES "@streq __utma" "id:4,phase:1,pass"
SecRule REQUEST_FILENAME "@streq /a/b.php" "id:5,phase:1,pass"
SecRule REQUEST_BASENAME "@streq b.php" "id:6,phase:1,pass"
SecRule QUERY_STRING "@streq q=Hello&x=1&x=2" "id:7,phase:1,pass"
SecRule &REQUEST_HEADERS:X-Missing "@eq 0" "id:8,phase:1,pass"
SecRule REQUEST_LINE "@streq GET /a/b.php?q=Hello&x=1&x=2 HTTP/1.1" "id:9,phase:1,pass"
`);
  assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(tx.matchedRules[0]?.matches, [{ name: 'ARGS:q', value: 'Hello' }]);
});

test('exclusions and regex keys remove targets from one rule only', () => {
  const { ids } = run(`
SecRule REQUEST_COOKIES|!REQUEST_COOKIES:/^__utm/ "@rx ^1$" "id:1,phase:1,pass"
SecRule REQUEST_COOKIES "@rx ^1$" "id:2,phase:1,pass"
SecRule ARGS|!ARGS:q "@rx ello" "id:3,phase:1,pass"
`);
  assert.deepEqual(ids, [2]);
});

test('setvar arithmetic, macros in msg, and negation', () => {
  const { tx } = run(`
SecAction "id:1,phase:1,pass,nolog,setvar:tx.score=2"
SecRule ARGS "@rx ." "id:2,phase:1,pass,setvar:'tx.score=+%{tx.five}',msg:'score %{tx.score} from %{MATCHED_VAR_NAME}'"
SecAction "id:3,phase:1,pass,setvar:tx.five=5,setvar:tx.gone=1,setvar:!tx.gone"
SecRule ARGS:q "!@streq Hello" "id:4,phase:1,pass"
SecRule TX:score "@eq 2" "id:5,phase:1,pass"
`);
  // id 2 runs before tx.five is set: +'' adds 0, three times (one per matched argument).
  assert.deepEqual(
    tx.matchedRules.map((m) => m.id),
    [1, 2, 3, 5],
  );
  assert.equal(tx.matchedRules[1]?.msg, 'score 2 from ARGS:x');
  assert.equal(tx.tx.get('gone'), undefined);
});

test('chains match only when every link matches; capture feeds the next link', () => {
  const { ids, tx } = run(`
SecRule ARGS:q "@rx ^(H)(e)" "id:1,phase:1,pass,capture,chain,logdata:'%{TX.1}%{TX.2}'"
  SecRule TX:1 "@streq H" "chain"
    SecRule REQUEST_METHOD "@streq GET"
SecRule ARGS:q "@rx Hello" "id:2,phase:1,pass,chain"
  SecRule REQUEST_METHOD "@streq POST"
`);
  assert.deepEqual(ids, [1]);
  assert.equal(tx.matchedRules[0]?.logdata, 'He');
  assert.deepEqual(
    tx.matchedRules[0]?.matches.map((m) => m.name),
    ['ARGS:q', 'TX:1', 'REQUEST_METHOD'],
  );
});

test('skipAfter jumps to the marker; transformations reset by t:none', () => {
  const { ids } = run(`
SecDefaultAction "phase:1,log,pass,t:lowercase"
SecRule ARGS:q "@streq hello" "id:1,phase:1,pass,skipAfter:END"
SecRule ARGS:q "@rx ." "id:2,phase:1,pass"
SecMarker END
SecRule ARGS:q "@streq Hello" "id:3,phase:1,pass,t:none"
SecRule ARGS:q "@streq hello" "id:4,phase:1,pass"
`);
  assert.deepEqual(ids, [1, 3, 4]);
});

test('ctl:ruleRemoveById and ctl:ruleRemoveTargetById affect later rules of this transaction only', () => {
  const rules = `
SecRule REQUEST_URI "@rx ^/a/" "id:1,phase:1,pass,nolog,ctl:ruleRemoveById=10,ctl:ruleRemoveTargetById=11;ARGS:q"
SecRule ARGS "@rx ." "id:10,phase:1,pass"
SecRule ARGS "@rx ." "id:11,phase:1,pass"
`;
  const { tx } = run(rules);
  assert.deepEqual(
    tx.matchedRules.map((m) => m.id),
    [1, 11],
  );
  assert.deepEqual(
    tx.matchedRules[1]?.matches.map((m) => m.name),
    ['ARGS:x', 'ARGS:x'],
  );
  const other = run(rules, { ...GET, uri: '/b?q=1' });
  assert.deepEqual(other.ids, [10, 11]);
});

test('deny interrupts in On mode and only logs in DetectionOnly', () => {
  const rules = `
SecRule ARGS:q "@streq Hello" "id:1,phase:1,deny,status:406"
SecRule ARGS:q "@rx ." "id:2,phase:1,pass"
`;
  const on = run(rules);
  assert.deepEqual(on.tx.interruption, { ruleId: 1, action: 'deny', status: 406 });
  assert.deepEqual(on.ids, [1]);
  const detect = run(rules, GET, '', 'DetectionOnly');
  assert.equal(detect.tx.interruption, undefined);
  assert.deepEqual(detect.ids, [1, 2]);
});

test('block takes the phase default action', () => {
  const { tx } = run(`
SecDefaultAction "phase:1,log,deny,status:403"
SecRule ARGS:q "@rx ." "id:1,phase:1,block"
`);
  assert.equal(tx.interruption?.status, 403);
});

test('transformation results are cached per transaction', () => {
  const { registry, ids } = run(`
SecRule REQUEST_HEADERS:User-Agent "@streq x" "id:1,phase:1,pass,t:lowercase"
SecRule REQUEST_HEADERS:User-Agent "@streq y" "id:2,phase:1,pass,t:lowercase"
SecRule REQUEST_HEADERS:User-Agent "@streq curl/8" "id:3,phase:1,pass,t:lowercase"
`);
  assert.deepEqual(ids, [3]);
  assert.equal(registry.calls.get('lowercase'), 1);
});

test('multiMatch checks the value before and after each transformation', () => {
  const req = { ...GET, uri: '/?q=A%20B' };
  const { ids } = run(
    `
SecRule ARGS:q "@streq A B" "id:1,phase:1,pass,t:removeWhitespace"
SecRule ARGS:q "@streq A B" "id:2,phase:1,pass,t:removeWhitespace,multiMatch"
`,
    req,
  );
  assert.deepEqual(ids, [2]);
});

test('body processors: urlencoded, JSON, multipart', () => {
  const form = run(
    `SecRule ARGS_POST:a "@streq 1 2" "id:1,phase:2,pass"`,
    { ...GET, method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']] },
    'a=1+2&b=3',
  );
  assert.deepEqual(form.ids, [1]);
  const json = run(
    `SecRule ARGS_NAMES "@streq json.user.tags.1" "id:1,phase:2,pass"
SecRule REQBODY_PROCESSOR "@streq JSON" "id:2,phase:1,pass"`,
    { ...GET, method: 'POST', headers: [['Content-Type', 'application/json']] },
    '{"user":{"tags":["a","b"]}}',
  );
  assert.deepEqual(json.ids, [2, 1]);
  const mp = run(
    `SecRule FILES "@streq x.php" "id:1,phase:2,pass"
SecRule ARGS:note "@streq hi" "id:2,phase:2,pass"
SecRule MULTIPART_STRICT_ERROR "@eq 0" "id:3,phase:2,pass"`,
    { ...GET, method: 'POST', headers: [['Content-Type', 'multipart/form-data; boundary=XX']] },
    '--XX\r\nContent-Disposition: form-data; name="f"; filename="x.php"\r\n\r\n<?php\r\n--XX\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--XX--\r\n',
  );
  assert.deepEqual(mp.ids, [1, 2, 3]);
});

test('a rule that does not compile stops the load with file and line', () => {
  const load = (text: string) =>
    loadRuleSet({ extra: [{ file: '/etc/r.conf', text }], registry: testRegistry() });
  assert.throws(
    () => load('\n\nSecRule ARGS "@nope x" "id:1"'),
    /\/etc\/r\.conf:3: SecRule: @nope: unknown operator @nope/,
  );
  assert.throws(() => load('SecRule ARGS "@rx x" "id:1,bogus"'), /r\.conf:1: .*unknown action bogus/);
  assert.throws(() => load('SecRule ARGS "@rx x" "id:1,t:nope"'), /unknown transformation t:nope/);
  assert.throws(() => load('SecRule ARGS "@rx x" "id:1,chain"'), /r\.conf:1: rule 1 ends with chain/);
  assert.throws(() => load('SecRule ARGS "@rx x" "id:1,skipAfter:NOWHERE"'), /no SecMarker with that name/);
  assert.throws(
    () => load('SecRule ARGS "@rx x" "id:1"\nSecRule ARGS "@rx y" "id:1"'),
    /r\.conf:2: .*duplicate rule id 1/,
  );
  assert.throws(() => load('SecRuleUpdateTargetById 5 "!ARGS:a"'), /no rule with id 5/);
  assert.throws(() => load('SecRule ARGS "@rx x" "phase:1"'), /without an id/);
});

test('SecRuleRemoveById and SecRuleUpdateTargetById act on loaded rules', () => {
  const { ids } = run(`
SecRule ARGS "@rx ." "id:1,phase:1,pass"
SecRule ARGS "@rx ." "id:2,phase:1,pass"
SecRule ARGS "@rx Hello" "id:3,phase:1,pass"
SecRuleRemoveById 1
SecRuleUpdateTargetById 3 "!ARGS:q"
`);
  assert.deepEqual(ids, [2]);
});

test('engine directives are returned as settings', () => {
  const rs = loadRuleSet({
    extra: [{ file: 'f', text: 'SecRuleEngine DetectionOnly\nSecRequestBodyLimit 1000' }],
    registry: testRegistry(),
  });
  assert.equal(rs.ruleEngine, 'DetectionOnly');
  assert.deepEqual(
    rs.settings.map((s) => [s.name, s.value, s.line]),
    [
      ['SecRuleEngine', 'DetectionOnly', 1],
      ['SecRequestBodyLimit', '1000', 2],
    ],
  );
});

test('allow stops the phase, the request phases, or the whole transaction', () => {
  const rules = (scope: string) => `
SecRule ARGS:q "@streq Hello" "id:1,phase:1,${scope}"
SecRule ARGS:q "@rx ." "id:2,phase:1,pass"
SecRule ARGS:q "@rx ." "id:3,phase:2,pass"
SecRule ARGS:q "@rx ." "id:4,phase:3,pass"
`;
  const phases = (scope: string) => {
    const { tx } = run(rules(scope));
    tx.processResponseHeaders({ status: 200, headers: [] });
    return tx.matchedRules.map((m) => m.id);
  };
  assert.deepEqual(phases('allow:phase'), [1, 3, 4]);
  assert.deepEqual(phases('allow:request'), [1, 4]);
  assert.deepEqual(phases('allow'), [1]);
  assert.throws(() => run(rules('allow:never')), /bad allow/);
});

test('redirect interrupts with the expanded location', () => {
  const { tx } = run(
    `SecRule ARGS:q "@streq Hello" "id:1,phase:1,redirect:'https://example.com/blocked?%{ARGS.x}'"`,
  );
  assert.deepEqual(tx.interruption, {
    ruleId: 1,
    action: 'redirect',
    status: 302,
    location: 'https://example.com/blocked?1',
  });
});

test('SecRuleUpdateActionById recompiles the rule; a removed id can be defined again', () => {
  const { tx } = run(`
SecRule ARGS:q "@streq Hello" "id:1,phase:1,deny,msg:'old'"
SecRuleUpdateActionById 1 "pass,msg:'new'"
SecRule ARGS:x "@rx ." "id:2,phase:1,pass"
SecRuleRemoveById 2
SecRule ARGS:x "@streq 2" "id:2,phase:1,pass,msg:'again'"
`);
  assert.equal(tx.interruption, undefined);
  assert.deepEqual(
    tx.matchedRules.map((m) => [m.id, m.msg]),
    [
      [1, 'new'],
      [2, 'again'],
    ],
  );
  assert.throws(() => run('SecRuleUpdateActionById 9 "pass"'), /no rule with id 9/);
});

test('an operator that throws stops evaluation, is reported, and denies with the engine On', () => {
  const registry = testRegistry();
  const throwing = {
    ...registry,
    createOperator: (name: string, param: string, env: { dir: string; file: string; line: number }) =>
      name === 'streq' && param === 'boom'
        ? {
            match: () => {
              throw new RangeError('Maximum call stack size exceeded');
            },
          }
        : registry.createOperator(name, param, env),
  };
  const rules =
    'SecRule ARGS:q "@streq boom" "id:7,phase:1,pass"\nSecRule ARGS:q "@rx ." "id:8,phase:1,pass"';
  for (const mode of ['On', 'DetectionOnly'] as const) {
    const rs = loadRuleSet({ extra: [{ file: 'f', text: rules }], registry: throwing, ruleEngine: mode });
    const tx = rs.newTransaction(GET);
    tx.processRequestHeaders();
    tx.processRequestBody('');
    assert.deepEqual(tx.error, { ruleId: 7, phase: 1, message: 'Maximum call stack size exceeded' });
    assert.deepEqual(tx.matchedRules, []);
    assert.deepEqual(tx.interruption, mode === 'On' ? { ruleId: 7, action: 'deny', status: 403 } : undefined);
  }
});

test('rules sharing a target list see new body data and their own removals', () => {
  const req: RequestInput = {
    ...GET,
    uri: '/',
    method: 'POST',
    headers: [['Content-Type', 'application/x-www-form-urlencoded']],
  };
  const { ids, tx } = run(
    `
SecRule ARGS "@streq post" "id:1,phase:1,pass"
SecAction "id:2,phase:2,pass,nolog,ctl:ruleRemoveTargetById=4;ARGS:a"
SecRule ARGS "@streq post" "id:3,phase:2,pass"
SecRule ARGS "@streq post" "id:4,phase:2,pass"
`,
    req,
    'a=post',
  );
  assert.deepEqual(ids, [2, 3]);
  assert.deepEqual(tx.matchedRules[1]?.matches, [{ name: 'ARGS:a', value: 'post' }]);
});
