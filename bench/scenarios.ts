/** The two requests every target is measured with. */

export interface Scenario {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
}

/** A JSON object of exactly `size` bytes (ASCII), shaped like a small API payload. */
function jsonBody(size: number): string {
  const items = Array.from({ length: 8 }, (_, i) => ({ id: i, sku: `sku-${1000 + i}`, qty: i + 1 }));
  const head = JSON.stringify({ order: 'o-42', customer: 'c-7', items, note: '' });
  const pad = size - head.length;
  if (pad < 0) throw new Error(`body template is larger than ${size} bytes`);
  const body = head.replace('"note":""', `"note":"${'x'.repeat(pad)}"`);
  if (Buffer.byteLength(body) !== size) throw new Error('body size mismatch');
  return body;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'GET /hello', method: 'GET', path: '/hello', headers: {}, body: undefined },
  {
    name: 'POST /echo (1 KiB JSON)',
    method: 'POST',
    path: '/echo',
    headers: { 'content-type': 'application/json' },
    body: jsonBody(1024),
  },
];
