import type { OutgoingHttpHeaders } from 'node:http';

/**
 * Add `names` to a response's `Vary` (RFC 9110 §12.5.5), keeping what the upstream listed
 * (`Accept-Encoding`...). A response whose CORS headers depend on `Origin` must say so, or a
 * shared cache serves one origin's answer to another (the answer with an echoed origin to a
 * site it was not meant for, or the answer without one to a site that is allowed).
 */
export function appendVary(headers: OutgoingHttpHeaders, names: readonly string[]): void {
  const current = headers.vary;
  if (current === undefined) {
    headers.vary = names.join(', ');
    return;
  }
  const text = Array.isArray(current) ? current.join(', ') : String(current);
  const listed = new Set(text.split(',').map((t) => t.trim().toLowerCase()));
  if (listed.has('*')) return;
  const missing = names.filter((n) => !listed.has(n.toLowerCase()));
  if (missing.length > 0)
    headers.vary = text.trim() === '' ? missing.join(', ') : `${text}, ${missing.join(', ')}`;
}
