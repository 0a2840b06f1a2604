import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectSQLi } from './index.ts';

/** Injections, each as it would arrive in a parameter value (already percent-decoded). */
const ATTACKS: readonly string[] = [
  // Tautologies after breaking out of a string.
  "' or '1'='1",
  "' OR 'a'='a",
  "admin' or '1'='1'--",
  "x' or 1=1--",
  "x' or 1=1#",
  "') or ('a'='a",
  "')) or (('x'='x",
  '" or "1"="1',
  "' or ''='",
  "admin' or '1",
  "' or username like '%",
  "' or id>0--",
  "1' and 1=2 union select 1,2--",
  "' or true--",
  "' or 1 --",
  "' or 1 in (1)--",
  "' or x is null--",
  '1 or 1 is not null',
  'order by if(1=1,1,sleep(1))',
  'select 1 from(select count(*),concat(user(),floor(rand(0)*2))x)',
  "x);declare @q varchar(99);set @q='\\\\evil\\x'; exec master.dbo.xp_dirtree @q;--",
  ' exec xp_cmdshell',
  "'||'1'='1",
  "'; if (1=1) waitfor delay '0:0:5'--",
  // Numeric tautologies and conditions.
  '1 or 1=1',
  '1234 OR 1=1',
  '-1 or 2>1',
  '1) or (1=1',
  '1 and 1=2',
  '1 or 1--',
  '1 and (select 1 from users)',
  '1 AND ascii(substring(user(),1,1))>64',
  // Comment-terminated logins.
  "admin'--",
  "admin'#",
  "admin')/*",
  "';--",
  // UNION-based.
  "' union select null,null--",
  "foo') UNION ALL select NULL --",
  '-1 union select 1,2,3',
  '1) union all select username,password from users--',
  'union select 1,2,3',
  'union all select user,password from users',
  "' union (select @@version)--",
  // Stacked queries.
  "'; drop table users--",
  '1; drop table users',
  "'; exec xp_cmdshell 'dir'--",
  '1;select pg_sleep(5)',
  "'; waitfor delay '0:0:5'--",
  "foo')waitfor delay'5:0:20'--",
  "') drop table users--",
  'x; drop table users',
  // Time-based and out-of-band functions.
  'sleep(20)',
  'benchmark(5000000,md5(1))',
  'pg_sleep(5)',
  'sleep/**/(5)',
  "' and sleep (5)--",
  "load_file('/etc/passwd')",
  "waitfor delay '0:0:10'",
  "' and sleep(5)--",
  "2010-01-01'+sleep(20.to_i)+'",
  '1+sleep(5)',
  "'||pg_sleep(10)||'",
  "'||(select extractvalue(xmltype('<x/>'),'/l'))||'",
  "' and extractvalue(1,concat(0x7e,version()))--",
  "' into outfile '/var/www/shell.php",
  // Clauses and subqueries.
  "' order by 1--",
  '1 order by 5--',
  "' group by x having 1=1--",
  '1 having 1=1',
  "', (select password from users))--",
  '(select * from users)',
  'select @@version',
  'select * from users',
  'select 1,2',
  // Evasions.
  "' UN/**/ION SEL/**/ECT 1,2--",
  '1/**/union/**/select/**/1,2',
  "'/**/or/**/1=1--",
  "' uNiOn SeLeCt 1--",
  "'\x0bor\x0b1=1--",
  "'\x0aor\x0a1=1--",
  "'\xa0or\xa01=1--",
  "' or username=0x61646d696e--",
  "' /*!50000union*/ /*!50000select*/ 1,2--",
  '1 /*!union*/ select 1',
  "' or `id`=1--",
  "' or 'ad'||'min'='admin",
  "' || 1=1 --",
  "' && 1=1 --",
  "' or not 1=2--",
  '1 or -1=-1',
  "'or'1'='1",
  '1union select 1',
];

/** Benign values from forms, searches and APIs: none may be flagged. */
const BENIGN: readonly string[] = [
  "O'Brien",
  "O'Brien's pub",
  "Let's meet at Joe's",
  "It's a nice day, isn't it?",
  "students' or teachers' lounge",
  "rock 'n' roll",
  '5\'6" tall',
  'select a color or size',
  'select one or more options',
  'select your size from the list',
  'select 3 from the list below',
  'from here to there',
  'order by date, then by name',
  'Please select the union of both sets',
  'The workers union voted',
  'drop me a line',
  'update your profile',
  'delete my account, please',
  'order by price',
  'from London to Paris',
  'where is my order?',
  'true or false',
  '1 or 2',
  'pick 1 or 2 items',
  '2024-01-01',
  '2010-01-01T10:00:00Z',
  '12:30',
  '-42',
  '3.14159',
  '1e10',
  '0x1F',
  'john.doe@example.com',
  'unittests@coreruleset.org',
  'https://example.com/path?x=1&y=2',
  '/api/v1/users/42',
  '{"name":"O\'Brien","age":42}',
  '{"query":"select"}',
  '[1,2,3]',
  'a < b and c > d',
  '5 + 3 = 8',
  '100% cotton',
  'C# and F# developers',
  'issue #42',
  'hello -- world',
  'foo--bar',
  'Mr. & Mrs. Smith',
  'black and white',
  'salt and pepper',
  'cats or dogs',
  'null',
  'NULL',
  'Anderson',
  'Oregon',
  'Union Station',
  'not available',
  'sleep well',
  'sleep (8 hours)',
  'sleep (8)',
  'Benchmark (2024) results',
  'I need more sleep',
  'char',
  'count',
  'user',
  'version 2.0',
  'SELECT',
  'information',
  'The "best" choice',
  '"apples" or "oranges"',
  "it's 5 o'clock",
  "can't won't shouldn't",
  "Jones' and Smith's",
  'semicolon; separated; list',
  'a;b;c',
  'x=1',
  'a=b&c=d',
  'price >= 10',
  'Québec',
  'naïve café',
  'Bobby Tables',
  'ORDER-1234',
  'SKU-99-XL',
  '+1 (555) 123-4567',
  '(optional)',
  'see (attached) file',
  'f(x) = 2x + 1',
  'if (a) then b',
  'x-www-form-urlencoded',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'gzip, deflate, br',
  'en-US,en;q=0.9',
  'max-age=0',
  '/* just a comment */',
  '#hashtag',
  "l'amour",
  "d'Artagnan",
  "McDonald's or Wendy's",
  '0x20 and 0xA0 is whitespace',
  '5 and 6 in total',
  "Jones' and 5 in stock",
  '2 or 3 is fine',
  'by Original Author," or "Screenplay based on original Work',
  '"first wins" or "last wins": the framework picks one',
  "called 'fast' or 'quick and easy",
  "Use '=' to assign and '-' to subtract",
  "color: '#fff'",
  "flag '--verbose'",
  "censor: '***HIDDEN***'",
  'icon: ":ghost:"',
  '"/usr/local/bin"',
  "default '[REDACTED]'",
  "split on '\\r\\n'",
  'token "<your-session-token>"',
];

describe('detectSQLi', () => {
  it('flags injections', () => {
    const missed = ATTACKS.filter((a) => !detectSQLi(a).match);
    assert.deepEqual(missed, []);
  });

  it('leaves benign values alone', () => {
    const flagged = BENIGN.filter((b) => detectSQLi(b).match).map(
      (b) => `${b} => ${detectSQLi(b).fingerprint}`,
    );
    assert.deepEqual(flagged, []);
  });

  it('has at least 60 vectors of each kind', () => {
    assert.ok(ATTACKS.length >= 60 && BENIGN.length >= 60);
  });

  it('returns the fingerprint of the tokens that matched', () => {
    assert.deepEqual(detectSQLi("' or 'a'='a"), { match: true, fingerprint: 's&s=' });
    assert.deepEqual(detectSQLi("admin'--"), { match: true, fingerprint: 'sc' });
    assert.deepEqual(detectSQLi('1 union select 1'), { match: true, fingerprint: 'nUE' });
    assert.deepEqual(detectSQLi('hello world'), { match: false });
  });

  it('reads a string the application opened in either quote', () => {
    // The same payload closes a single- or a double-quoted literal.
    assert.equal(detectSQLi("x' or 1=1--").fingerprint, 's&n=');
    assert.equal(detectSQLi('x" or 1=1--').fingerprint, 's&n=');
    // `''` escapes a quote in every dialect; `\'` only in MySQL — in standard SQL the backslash
    // is a plain byte and the quote closes the literal.
    assert.equal(detectSQLi("x\\' or 1=1--").match, true);
    assert.equal(detectSQLi("abc'' or 1=1--").match, false);
  });

  it('needs the injection at the start of the value, where the statement continues', () => {
    assert.equal(detectSQLi('the query was 1 or 1=1').match, false);
    assert.equal(detectSQLi('/post/foo/24 union all select 1,2,3 from aa/bar').match, false);
    assert.equal(detectSQLi("/post/foo/24'union all select 1,2,3 from aa/bar").match, true);
  });

  it('reads MySQL executable comments as code and plain comments as whitespace', () => {
    assert.equal(detectSQLi('1 /*!50000or*/ 1=1').match, true);
    assert.equal(detectSQLi('/* 1 or 1=1 */').match, false);
  });

  it('stays linear on long and adversarial inputs', () => {
    for (const big of [
      "'".repeat(100_000),
      '/*'.repeat(50_000),
      'a/**/'.repeat(20_000),
      '('.repeat(100_000),
    ]) {
      detectSQLi(big);
    }
    // Inside a string the application opened, everything up to the quote is that string.
    assert.equal(detectSQLi(`${'a '.repeat(50_000)}' or 1=1`).match, true);
    assert.equal(detectSQLi(`${'a '.repeat(50_000)} or 1=1`).match, false);
    assert.equal(detectSQLi(`x' or 1=1-- ${'a'.repeat(100_000)}`).match, true);
  });
});
