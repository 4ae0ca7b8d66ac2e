/**
 * JSON as Python's `json.dumps` writes it, which is how the AWS CLI writes its cache files and
 * derives the names of its role cache entries (docs/PROTOCOL.md §7): `", "` and `": "`
 * separators and `ensure_ascii` (every character outside printable ASCII as `\uXXXX`, astral ones
 * as surrogate pairs), keys optionally sorted as `sort_keys=True` sorts them (by code point).
 *
 * On the credential hot path: no imports.
 *
 * @module
 */

/** Whether `v` is a plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A copy of `obj` with the `order` keys first (when present), then the rest as they came. */
export function orderKeys<T extends Record<string, unknown>>(obj: T, order: readonly string[]): T {
  // No prototype, so a "__proto__" key from the file stays an ordinary key.
  const out: Record<string, unknown> = Object.create(null);
  for (const key of order) if (obj[key] !== undefined) out[key] = obj[key];
  for (const [key, v] of Object.entries(obj)) if (!(key in out) && v !== undefined) out[key] = v;
  return out as T;
}

/** Python's string order: by code point (JavaScript's `<` compares UTF-16 code units). */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Options of {@link pythonJson}. */
export interface PythonJsonOptions {
  /** Keys of the top-level object to write first, in this order. */
  readonly order?: readonly string[];
  /** Sort the keys of every object, as `json.dumps(…, sort_keys=True)`. */
  readonly sortKeys?: boolean;
}

/**
 * JSON as Python's `json.dumps` writes it. An explicit stack, not recursion, so a field nested
 * 20,000 deep (another tool's, or a hostile one) cannot overflow the call stack mid-write.
 */
export function pythonJson(root: unknown, options: PythonJsonOptions = {}): string {
  const out: string[] = [];
  // Work items, last first: text to emit as is, or a value to write.
  const work: ({ text: string } | { value: unknown; order?: readonly string[] })[] = [
    { value: root, order: options.order },
  ];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    if ("text" in item) {
      out.push(item.text);
      continue;
    }
    const value = item.value;
    if (Array.isArray(value)) {
      const parts: typeof work = [{ text: "[" }];
      value.forEach((v, i) => {
        if (i > 0) parts.push({ text: ", " });
        parts.push({ value: v });
      });
      parts.push({ text: "]" });
      for (let i = parts.length - 1; i >= 0; i--) work.push(parts[i]!);
    } else if (isObject(value)) {
      const obj = item.order ? orderKeys(value, item.order) : value;
      const entries = Object.entries(obj);
      if (options.sortKeys) entries.sort(([a], [b]) => byCodePoint(a, b));
      const parts: typeof work = [{ text: "{" }];
      for (const [key, v] of entries) {
        if (v === undefined || typeof v === "function") continue;
        if (parts.length > 1) parts.push({ text: ", " });
        parts.push({ text: `${pythonString(key)}: ` }, { value: v });
      }
      parts.push({ text: "}" });
      for (let i = parts.length - 1; i >= 0; i--) work.push(parts[i]!);
    } else if (typeof value === "string") out.push(pythonString(value));
    else out.push(JSON.stringify(value) ?? "null");
  }
  return out.join("");
}

/** A string as `json.dumps` writes it with `ensure_ascii`. */
export function pythonString(s: string): string {
  return JSON.stringify(s).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
