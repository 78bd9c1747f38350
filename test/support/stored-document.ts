/**
 * How the in-memory stores hold documents the way MongoDB does: a caller never holds the stored
 * object (copies in and out), and a `$set` of a field to `undefined` stores null (the driver's
 * default serialization), so the fakes see the same fields the adapters would read back.
 */

export const copy = <T>(value: T): T => structuredClone(value);

/** `$set` of `fields` on `doc`. */
export function setFields(doc: object, fields: object): void {
  for (const [key, value] of Object.entries(fields)) {
    (doc as Record<string, unknown>)[key] = value === undefined ? null : copy(value);
  }
}
