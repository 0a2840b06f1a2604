import { base64Decode, base64DecodeExt } from './base64-decode.ts';
import { cmdLine } from './cmd-line.ts';
import { compressWhitespace } from './compress-whitespace.ts';
import { cssDecode } from './css-decode.ts';
import { md5, sha1 } from './digest.ts';
import { escapeSeqDecode } from './escape-seq-decode.ts';
import { hexDecode, hexEncode } from './hex.ts';
import { htmlEntityDecode } from './html-entity-decode.ts';
import { jsDecode } from './js-decode.ts';
import { length } from './length.ts';
import { lowercase } from './lowercase.ts';
import { normalizePath, normalizePathWin } from './normalize-path.ts';
import { removeComments } from './remove-comments.ts';
import { removeCommentsChar } from './remove-comments-char.ts';
import { removeNulls } from './remove-nulls.ts';
import { removeWhitespace } from './remove-whitespace.ts';
import { replaceComments } from './replace-comments.ts';
import { replaceNulls } from './replace-nulls.ts';
import { trim, trimLeft, trimRight } from './trim.ts';
import type { Transformation } from './types.ts';
import { urlDecode } from './url-decode.ts';
import { urlDecodeUni } from './url-decode-uni.ts';
import { urlEncode } from './url-encode.ts';
import { utf8toUnicode } from './utf8-to-unicode.ts';

export type { Transformation } from './types.ts';

/** Keyed by the lowercased SecLang name; `none` is the engine's (it resets the chain). */
const TRANSFORMATIONS = new Map<string, Transformation>(
  Object.entries({
    base64decode: base64Decode, // also CRS's spelling `t:base64decode`
    base64decodeext: base64DecodeExt,
    cmdline: cmdLine,
    compresswhitespace: compressWhitespace,
    cssdecode: cssDecode,
    escapeseqdecode: escapeSeqDecode,
    hexdecode: hexDecode,
    hexencode: hexEncode,
    htmlentitydecode: htmlEntityDecode,
    jsdecode: jsDecode,
    length,
    lowercase,
    md5,
    normalisepath: normalizePath, // ModSecurity accepts the British spellings too
    normalisepathwin: normalizePathWin,
    normalizepath: normalizePath,
    normalizepathwin: normalizePathWin,
    removecomments: removeComments,
    removecommentschar: removeCommentsChar,
    removenulls: removeNulls,
    removewhitespace: removeWhitespace,
    replacecomments: replaceComments,
    replacenulls: replaceNulls,
    sha1,
    trim,
    trimleft: trimLeft,
    trimright: trimRight,
    urldecode: urlDecode,
    urldecodeuni: urlDecodeUni,
    urlencode: urlEncode,
    utf8tounicode: utf8toUnicode,
  }),
);

/**
 * The transformation named `name` (case-insensitive), or undefined for an unknown name.
 * `none` is not here: the engine handles it (it resets the chain).
 */
export function getTransformation(name: string): Transformation | undefined {
  return TRANSFORMATIONS.get(name.toLowerCase());
}
