/**
 * Request body processors (URLENCODED, JSON, MULTIPART, XML): each turns the raw body into
 * SecLang variables. The processor follows the Content-Type as ModSecurity's recommended
 * configuration selects it (rules 200000/200001), and `ctl:requestBodyProcessor` overrides it.
 */
import { processJson } from './json.ts';
import { processMultipart } from './multipart.ts';
import { processUrlEncoded } from './urlencoded.ts';
import { processXml } from './xml.ts';

/** Where a processor writes: collection entries and scalar variables. */
export interface BodyState {
  add(collection: string, key: string, value: string): void;
  set(name: string, value: string): void;
}

/** A POST argument goes to ARGS and ARGS_POST, its name to ARGS_NAMES and ARGS_POST_NAMES. */
export function addArg(state: BodyState, key: string, value: string): void {
  state.add('ARGS', key, value);
  state.add('ARGS_POST', key, value);
  state.add('ARGS_NAMES', key, key);
  state.add('ARGS_POST_NAMES', key, key);
}

export function selectBodyProcessor(contentType: string): string | undefined {
  const ct = contentType.toLowerCase().trimStart();
  if (ct.startsWith('application/x-www-form-urlencoded')) return 'URLENCODED';
  if (ct.startsWith('multipart/form-data')) return 'MULTIPART';
  if (ct.startsWith('application/json')) return 'JSON';
  if (/^(?:application(?:\/soap\+|\/)|text\/)xml/.test(ct)) return 'XML';
  return undefined;
}

/** Runs `processor` over `body`; returns an error message when the body does not parse. */
export function processBody(
  processor: string,
  body: string,
  contentType: string,
  state: BodyState,
): string | undefined {
  switch (processor) {
    case 'URLENCODED':
      return processUrlEncoded(body, state);
    case 'JSON':
      return processJson(body, state);
    case 'MULTIPART':
      return processMultipart(body, contentType, state);
    case 'XML':
      return processXml(body, state);
    default:
      return `unknown body processor ${processor}`;
  }
}

/**
 * Text decoded from escapes (JSON `\u00e9`, XML `&#233;`) may hold code points above 0xFF;
 * they are re-encoded as UTF-8 bytes so values stay byte strings like the raw body.
 */
export function toByteString(s: string): string {
  let wide = false;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      wide = true;
      break;
    }
  }
  if (!wide) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    out += cp <= 0xff ? ch : Buffer.from(ch, 'utf8').toString('latin1');
  }
  return out;
}
