/**
 * `t:normalizePath` and `t:normalizePathWin`: ModSecurity's `normalize_path_inplace`, a
 * byte-for-byte port (the pointer walk is kept, as its edge cases are what rules were tuned
 * on): removes `./` self references and `dir/../` back references, collapses repeated
 * slashes, keeps `..` that would climb above the start of a relative path, and keeps a
 * trailing slash only when the input had one. The Windows form first turns `\` into `/`.
 */
export function normalizePathWith(input: string, win: boolean): string {
  const n = input.length;
  if (n === 0) return input;
  const b: number[] = new Array<number>(n);
  for (let k = 0; k < n; k++) b[k] = input.charCodeAt(k);
  const SL = 0x2f;
  const isSep = (c: number | undefined): boolean => c === SL || (win && c === 0x5c);
  const end = n - 1;
  let src = 0;
  let dst = 0;
  let hitRoot = false;
  let done = false;
  const relative = !isSep(b[0]);
  const trailing = isSep(b[end]);
  while (!done && src <= end && dst <= end) {
    if (win) {
      if (b[src] === 0x5c) b[src] = SL;
      if (src < end && b[src + 1] === 0x5c) b[src + 1] = SL;
    }
    let copy = true;
    let segmentEnd = true;
    if (src === end) done = true;
    else if (b[src + 1] !== SL) segmentEnd = false;
    if (segmentEnd && !(src !== end && b[src] === SL)) {
      // (an empty segment, `//`, is collapsed by the copy below)
      if (b[src] === 0x2e) {
        if (dst > 0 && b[dst - 1] === 0x2e) {
          // back reference `..`
          if (relative && (hitRoot || dst - 2 <= 0)) {
            hitRoot = true;
          } else {
            dst -= 3;
            while (dst > 0 && b[dst] !== SL) dst--;
            if (dst <= 0) {
              hitRoot = true;
              dst = 0;
              if (!relative && src === end) dst++;
            }
            if (done) copy = false;
            else src++;
          }
        } else if (dst === 0) {
          // relative self reference `./`
          if (done) copy = false;
          else src++;
        } else if (b[dst - 1] === SL) {
          // self reference `/./`
          if (done) copy = false;
          else {
            dst--;
            src++;
          }
        }
      } else if (dst > 0) {
        hitRoot = false;
      }
    }
    if (!copy) break;
    if (b[src] === SL) {
      while (src < end && isSep(b[src + 1])) src++;
      if (relative && dst === 0) {
        src++;
        continue;
      }
    }
    b[dst++] = b[src++] as number;
  }
  if (!trailing && dst > 0 && b[dst - 1] === SL) dst--;
  return String.fromCharCode(...b.slice(0, dst));
}

export function normalizePath(input: string): string {
  return input.indexOf('/') === -1 ? input : normalizePathWith(input, false);
}

export function normalizePathWin(input: string): string {
  return input.indexOf('/') === -1 && input.indexOf('\\') === -1 ? input : normalizePathWith(input, true);
}
