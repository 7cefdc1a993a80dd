// The field checks of every wire parser, in one place. A zod schema says what a field may
// hold; a value it refuses is a WireError that names the field, what it may hold and what
// came: `messages[2].content must be a string (got 42)`. The status is 400 for an agent's
// request, 502 for an upstream body. A value that passes is returned as given: zod only checks
// (its copies would cost time and change nothing).
import { z } from 'zod';
import { WireError } from './wire-error.ts';

export type Json = Record<string, unknown>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Describes a value for an error message: `"ten"`, `42`, `an object`. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `messages[2].role must be one of ... (got "robot")`, for checks no schema states. */
export function invalid(path: string, allowed: string, got: unknown, status = 400): WireError {
  return new WireError(`${path} must be ${allowed} (got ${describe(got)})`, status);
}

/** Reads the field at `path`: its value when allowed, else a WireError (400 unless `status`). */
export type Check<T> = (value: unknown, path: string, status?: number) => T;

/** A check from a schema and the words for what it allows (`a positive integer`). */
export function check<T>(schema: z.ZodType<T>, allowed: string): Check<T> {
  return (value, path, status = 400) => {
    if (!schema.safeParse(value).success) throw invalid(path, allowed, value, status);
    return value as T;
  };
}

/** The same check for a field that may be absent: undefined and null read as undefined. */
export function optional<T>(read: Check<T>): Check<T | undefined> {
  return (value, path, status) => (value === undefined || value === null ? undefined : read(value, path, status));
}

/** Any JSON object; `check(OBJECT, 'a tool object')` words it for the field. */
export const OBJECT: z.ZodType<Json> = z.looseObject({});
export const ARRAY: z.ZodType<unknown[]> = z.array(z.unknown());

export const record = check(OBJECT, 'an object');
export const array = check(ARRAY, 'an array');
export const nonEmptyArray = check(z.array(z.unknown()).min(1), 'a non-empty array');
export const strings = check(z.array(z.string()), 'an array of strings');
export const string = check(z.string(), 'a string');
export const nonEmptyString = check(z.string().min(1), 'a non-empty string');
export const boolean = check(z.boolean(), 'true or false');
export const number = check(z.number(), 'a number');
export const positiveInteger = check(z.int().positive(), 'a positive integer');

/** A number no less than `min`: `a number >= 0`. */
export function atLeast(min: number): Check<number> {
  return check(z.number().min(min), `a number >= ${min}`);
}

export const optionalString = optional(string);
export const optionalBoolean = optional(boolean);
