/**
 * A dynamically imported CommonJS package: Node gives named exports plus `default`, the bundle gives only
 * `default`. Both have everything on `default`.
 */
export function cjs<T>(mod: T): T {
  return ((mod as { default?: T }).default ?? mod) as T;
}
