/**
 * How the Redis store names keys, and which Redis Cluster slot a key lives in.
 *
 * Every logical key `k` becomes `<prefix>{<k, escaped>}`: the whole logical key is the hash tag
 * (Redis Cluster spec, "Hash tags"), so
 * - distinct limits (and distinct callers of one limit) spread over all slots and nodes, instead
 *   of one hot slot holding every counter of the gateway;
 * - a quota's window key `<prefix>{<k>}:<window>` stays in the slot of `<prefix>{<k>}`, so the
 *   consume script may build it from the key it was given (KEYS) and still touch only its slot.
 *
 * `{`, `}` and `%` in a logical key are percent-escaped, so a caller-chosen value (a header, an
 * API key id) cannot end the tag early or move a key to another slot, and escaping stays
 * one-to-one (distinct keys never collide). The layout is the same in every connection mode, so
 * a deployment can move from one Redis to a cluster without renaming its state.
 */

const ESCAPE = /[%{}]/g;

export function redisKey(prefix: string, key: string): string {
  if (key.length === 0) throw new TypeError('a state store key must not be empty');
  return `${prefix}{${key.replace(ESCAPE, escapeChar)}}`;
}

function escapeChar(c: string): string {
  return c === '%' ? '%25' : c === '{' ? '%7B' : '%7D';
}

/** The key prefix must not contain a brace: the tag must be the one `redisKey` writes. */
export function checkPrefix(prefix: string): string {
  if (/[{}]/.test(prefix)) throw new TypeError(`the Redis key prefix must not contain { or }: ${prefix}`);
  return prefix;
}

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster maps keys to its 16384 slots with. */
const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ b) & 0xff]!;
  return crc;
}

/** The cluster slot of a key written by `redisKey` (its tag is the escaped logical key). */
export function slotOf(redisKeyName: string): number {
  const open = redisKeyName.indexOf('{');
  const close = redisKeyName.indexOf('}', open + 1);
  const hashed = open >= 0 && close > open + 1 ? redisKeyName.slice(open + 1, close) : redisKeyName;
  return crc16(Buffer.from(hashed, 'utf8')) & 16383;
}
