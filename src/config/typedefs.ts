import { type TSchema, type TString, Type } from '@sinclair/typebox';

/**
 * Shared field types (after Kong's typedefs). Each carries `x-rampart-kind` so the reference
 * generator and error messages can describe it in words, and `x-rampart-hint` for the message
 * shown when a value does not match.
 */

export function Duration(description: string, defaultValue?: string): TString {
  return Type.String({
    pattern: '^[0-9]+(ms|s|m|h)$',
    description,
    default: defaultValue,
    'x-rampart-kind': 'duration',
    'x-rampart-hint': 'a duration such as 500ms, 10s, 2m or 1h',
  });
}

export function Size(description: string, defaultValue?: string): TString {
  return Type.String({
    pattern: '^[0-9]+(b|kb|mb|gb)$',
    description,
    default: defaultValue,
    'x-rampart-kind': 'size',
    'x-rampart-hint': 'a size such as 512b, 16kb or 1mb (1kb = 1024 bytes)',
  });
}

export function SecretRef(description: string): TString {
  return Type.String({
    pattern: '^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$',
    description,
    'x-rampart-kind': 'secret',
    'x-rampart-hint': 'a secret reference: env:NAME or file:PATH (never the secret itself)',
  });
}

export function Cidr(description: string): TString {
  return Type.String({
    minLength: 1,
    description,
    'x-rampart-kind': 'cidr',
    'x-rampart-hint': 'an IPv4 or IPv6 address or CIDR block such as 10.0.0.0/8 or ::1',
  });
}

export function FilePath(description: string): TString {
  return Type.String({ minLength: 1, description, 'x-rampart-kind': 'path' });
}

export function Name(description: string): TString {
  return Type.String({
    pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$',
    description,
    'x-rampart-hint': 'a name of letters, digits, _ and -, starting with a letter (at most 64)',
  });
}

export const NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}$';

export function StringEnum<const T extends readonly string[]>(
  values: T,
  description: string,
  defaultValue?: T[number],
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description, default: defaultValue });
}

export function Mode(description: string) {
  return StringEnum(['enforce', 'shadow'] as const, description, 'enforce');
}

/** An object whose unknown keys are errors (typos must not pass silently). */
export function Strict<T extends Parameters<typeof Type.Object>[0]>(
  properties: T,
  options: { description?: string; default?: unknown } = {},
) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

export type { TSchema };
