/**
 * The SQL words the SQLi lexer recognises, and the case-insensitive trie it looks them up in
 * while it scans a word — no lower-casing, no substring, no allocation per word.
 *
 * The lists are Rampart's own, written from the SQL dialects an injected value usually lands
 * in (MySQL/MariaDB, PostgreSQL, SQL Server, Oracle, SQLite). They are deliberately short:
 * a word only needs a class when one of the fingerprint patterns (fingerprints.ts) depends on
 * it; every other word is a bareword (`b`), which is what keeps English text quiet.
 */

import { T } from './token-types.ts';

/** Statement-level and clause words. `T.U` and `T.E` drive the UNION/SELECT patterns. */
const WORDS: ReadonlyArray<readonly [number, string]> = [
  [T.E, 'select'],
  [T.U, 'union except intersect minus'],
  // Verbs that start a second statement (stacked queries, `'; drop table t--`).
  [
    T.T,
    'insert update delete drop create alter truncate rename replace merge exec execute declare grant revoke ' +
      'shutdown waitfor call handler load lock unlock set show use copy backup restore kill',
  ],
  // Clauses that can follow a closed expression (`' order by 1--`, `1 having 1=1`).
  [T.K, 'from where having limit offset into values table database schema procedure returning'],
  [T.LOGIC, 'and or xor'],
  // Word operators: comparisons join two operands like `=` does.
  [T.CMP, 'like rlike ilike regexp is in between glob'],
  [T.OP, 'div mod collate escape'],
  [T.NUM, 'null true false'],
  // Server values readable without parentheses (`' or current_user like 'a%`).
  [T.VAR, 'current_user session_user system_user current_timestamp current_date localtimestamp'],
  [T.NOT, 'not'],
  // Second halves of the word pairs below; alone they are barewords.
  [T.WORD, 'all distinct by delay time outfile dumpfile order group sounds'],
];

/** Functions: a word in this list followed by `(` is `f`. */
const FUNCTIONS =
  'ascii char chr concat concat_ws group_concat string_agg array_agg listagg substring substr mid left right ' +
  'length len char_length lower upper lcase ucase hex unhex ord bin conv cast convert count sum min max avg ' +
  'if iif ifnull isnull nullif coalesce nvl nvl2 decode version database schema user current_user ' +
  'system_user session_user db_name user_name host_name suser_name suser_sname md5 sha1 sha2 rand floor ' +
  'ceil round abs now sysdate elt field find_in_set instr locate position reverse repeat space trim ltrim ' +
  'rtrim lpad rpad strcmp make_set export_set soundex json_extract json_keys row_count found_rows ' +
  'last_insert_id connection_id name_const pow power sqrt exp to_char to_number to_hex xmltype xmlelement ' +
  'xmlagg query_to_xml table_to_xml generate_series current_setting has_database_privilege exists ' +
  'insert replace values analyse row floor rand json_valid json_build_object sqlite_version ' +
  'sqlite_compileoption_used sqlite_compileoption_get encode lo_get overlay';

/**
 * Attack functions (`F`): calls with a side effect or a timing, file, network or error channel
 * — a value that calls one is an attack wherever it appears. The `bare` ones are procedures
 * that run without parentheses (`exec xp_cmdshell 'dir'`).
 */
const ATTACK_FUNCTIONS =
  'sleep benchmark pg_sleep pg_sleep_for dbms_lock.sleep dbms_session.sleep dbms_pipe.receive_message ' +
  'load_file extractvalue updatexml utl_http.request utl_inaddr.get_host_address utl_inaddr.get_host_name ' +
  'httpuritype.getclob dbms_xmlgen.getxml pg_read_file pg_read_binary_file pg_ls_dir lo_import lo_export ' +
  'sys_eval sys_exec randomblob load_extension dblink dblink_connect openrowset opendatasource';
const BARE_ATTACK_PROCEDURES =
  'xp_cmdshell xp_dirtree xp_regread xp_fileexist xp_servicecontrol sp_executesql sp_oacreate sp_configure';

/** `first second` read as one token of the given class: `union all`, `waitfor delay`, ... */
const PAIRS: ReadonlyArray<readonly [string, string, number]> = [
  ['union', 'all', T.U],
  ['union', 'distinct', T.U],
  ['select', 'all', T.E],
  ['select', 'distinct', T.E],
  ['order', 'by', T.K],
  ['group', 'by', T.K],
  // A delay is the time-based blind channel of SQL Server; a file write is the MySQL web shell.
  ['waitfor', 'delay', T.F],
  ['waitfor', 'time', T.F],
  ['into', 'outfile', T.F],
  ['into', 'dumpfile', T.F],
  ['sounds', 'like', T.CMP],
];

// The trie alphabet: a-z (either case), 0-9, '_', '$', '.'.
const SYMBOLS = 39;
const SYM = new Int8Array(256).fill(-1);
for (let c = 0; c < 26; c++) {
  SYM[0x61 + c] = c;
  SYM[0x41 + c] = c;
}
for (let c = 0; c < 10; c++) SYM[0x30 + c] = 26 + c;
SYM[0x5f] = 36;
SYM[0x24] = 37;
SYM[0x2e] = 38;

/** What a word id means: its class alone, and its class when followed by `(`. */
export interface WordTable {
  readonly next: Int32Array;
  /** Word id at a trie node, 0 when the node ends no word. */
  readonly idAt: Int32Array;
  readonly wordClass: Uint8Array;
  readonly callClass: Uint8Array;
  readonly pairs: ReadonlyMap<number, number>;
  readonly pairFirst: Uint8Array;
  /** A comparison word that is English unless SQL follows: GUARD_PAREN or GUARD_LITERAL. */
  readonly guard: Uint8Array;
}

/** `IN` compares only with a list: `x in (1,2)`; `5 and 6 in total` is prose. */
export const GUARD_PAREN = 1;
/** `IS` compares only with NULL, TRUE, FALSE or NOT: `x is null`; `0x20 is whitespace` is prose. */
export const GUARD_LITERAL = 2;
const GUARDS: ReadonlyArray<readonly [string, number]> = [
  ['in', GUARD_PAREN],
  ['is', GUARD_LITERAL],
];

function build(): WordTable {
  const words = new Map<string, { word: number; call: number }>();
  const entry = (w: string) => {
    let e = words.get(w);
    if (e === undefined) {
      e = { word: T.WORD, call: 0 };
      words.set(w, e);
    }
    return e;
  };
  const each = (list: string, f: (w: string) => void) => {
    for (const w of list.split(' ')) if (w !== '') f(w);
  };
  for (const [cls, list] of WORDS) {
    each(list, (w) => {
      entry(w).word = cls;
    });
  }
  each(FUNCTIONS, (w) => {
    entry(w).call = T.FN;
  });
  each(ATTACK_FUNCTIONS, (w) => {
    entry(w).call = T.F;
  });
  each(BARE_ATTACK_PROCEDURES, (w) => {
    entry(w).word = T.F;
    entry(w).call = T.F;
  });
  for (const [a, b] of PAIRS) {
    entry(a);
    entry(b);
  }
  const count = words.size + 1;
  let nodes = 1;
  let next = new Int32Array(64 * SYMBOLS);
  let idAt = new Int32Array(64);
  const wordClass = new Uint8Array(count);
  const callClass = new Uint8Array(count);
  const ids = new Map<string, number>();
  let id = 0;
  for (const [w, e] of words) {
    id++;
    ids.set(w, id);
    wordClass[id] = e.word;
    callClass[id] = e.call;
    let node = 0;
    for (let i = 0; i < w.length; i++) {
      const s = SYM[w.charCodeAt(i)]!;
      if (s < 0) throw new Error(`sqli word list: bad character in ${w}`);
      let to = next[node * SYMBOLS + s]!;
      if (to === 0) {
        if (nodes === idAt.length) {
          const grown = new Int32Array(nodes * 2 * SYMBOLS);
          grown.set(next);
          next = grown;
          const grownIds = new Int32Array(nodes * 2);
          grownIds.set(idAt);
          idAt = grownIds;
        }
        to = nodes++;
        next[node * SYMBOLS + s] = to;
      }
      node = to;
    }
    idAt[node] = id;
  }
  const pairs = new Map<number, number>();
  const pairFirst = new Uint8Array(count);
  for (const [a, b, cls] of PAIRS) {
    const ia = ids.get(a)!;
    pairs.set(ia * 4096 + ids.get(b)!, cls);
    pairFirst[ia] = 1;
  }
  const guard = new Uint8Array(count);
  for (const [w, g] of GUARDS) guard[ids.get(w)!] = g;
  return { next, idAt, wordClass, callClass, pairs, pairFirst, guard };
}

export const WORD_TABLE: WordTable = build();

/** The trie node after `node` reads byte `c`; -1 when no listed word continues that way. */
export function step(node: number, c: number): number {
  const s = SYM[c]!;
  if (s < 0 || node < 0) return -1;
  const to = WORD_TABLE.next[node * SYMBOLS + s]!;
  return to === 0 ? -1 : to;
}

/** The word id at a trie node reached by `step`, 0 when none. */
export function wordAt(node: number): number {
  return node < 0 ? 0 : WORD_TABLE.idAt[node]!;
}
