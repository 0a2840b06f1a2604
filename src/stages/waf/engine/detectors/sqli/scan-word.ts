/**
 * Reading one word against the keyword trie (words.ts) while scanning it: qualified names,
 * and keywords glued across empty comments (`UN/**\/ION`).
 */

import { isWordChar, isWordStart } from './bytes.ts';
import { T } from './token-types.ts';
import { step, WORD_TABLE, wordAt } from './words.ts';

// Word scanning leaves its results here: trie node reached (-1 when off the trie), the node
// of the last part of a qualified name, end offset.
export let wordNode = 0;
let lastPartNode = 0;
export let wordEnd = 0;

export function scanWord(s: string, i: number, end: number, node: number): void {
  let part = node;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (isWordChar(c)) {
      node = step(node, c);
      part = step(part, c);
      i++;
    } else if (c === 0x2e && (isWordStart(s.charCodeAt(i + 1)) || s.charCodeAt(i + 1) === 0x2e)) {
      // A qualified name (`information_schema.tables`, `dbms_lock.sleep`, SQL Server's
      // `master..xp_cmdshell`) is one word.
      node = step(node, c);
      part = 0;
      i++;
    } else break;
  }
  wordNode = node;
  lastPartNode = part;
  wordEnd = i;
}

/**
 * The word id of a scanned word: the whole name when listed (`dbms_lock.sleep`), else the
 * last part of a qualified name when that is a procedure or function (`master.dbo.xp_cmdshell`,
 * `sys.sleep(`) — the schema does not change what the call does.
 */
export function scannedWordId(): number {
  const id = wordAt(wordNode);
  if (id !== 0 || lastPartNode === wordNode) return id;
  const last = wordAt(lastPartNode);
  return last !== 0 && (WORD_TABLE.callClass[last] !== 0 || WORD_TABLE.wordClass[last] === T.F) ? last : 0;
}

/**
 * `UN/**\/ION`: while the word so far is a prefix of a listed word and an empty-looking
 * comment glues it to more word characters, keep reading across the comment.
 */
export function scanAcrossComments(s: string, end: number): void {
  for (;;) {
    if (wordNode < 0 || s.charCodeAt(wordEnd) !== 0x2f || s.charCodeAt(wordEnd + 1) !== 0x2a) return;
    if (s.charCodeAt(wordEnd + 2) === 0x21) return;
    const close = s.indexOf('*/', wordEnd + 2);
    if (close < 0 || !isWordChar(s.charCodeAt(close + 2))) return;
    const saveNode = wordNode;
    const saveEnd = wordEnd;
    scanWord(s, close + 2, end, wordNode);
    if (wordNode < 0) {
      // The glued text is no listed word: the comment separates two tokens, as SQL reads it.
      wordNode = saveNode;
      wordEnd = saveEnd;
      return;
    }
  }
}
