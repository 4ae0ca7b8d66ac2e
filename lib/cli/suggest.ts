/**
 * "Did you mean …?" for a mistyped command, option or profile name: the closest known name by edit
 * distance (insertions, deletions, substitutions and swaps of neighbours), when it is close enough
 * to be a typo. Tiny and dependency-free, since the argument parser on the hot path uses it.
 *
 * @module
 */

/**
 * The known name closest to `input`, or undefined when none is plausibly what was meant: at most
 * one edit for names up to 4 characters, two for longer ones, or `input` a prefix of exactly one
 * name.
 *
 * @param input What the user typed.
 * @param known The names that exist.
 */
export function closest(input: string, known: Iterable<string>): string | undefined {
  const names = [...new Set(known)].filter((name) => name !== input);
  const wanted = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = distance(wanted, name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  if (best !== undefined && bestDistance <= (input.length <= 4 ? 1 : 2)) return best;
  const prefixed = input.length >= 3 ? names.filter((name) => name.startsWith(input)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * `message`, followed by `. Did you mean "x"?` when a known name is close to `input`.
 *
 * @example withSuggestion('Unknown command "stauts"', "stauts", ["status"])
 *   // 'Unknown command "stauts". Did you mean "status"?'
 */
export function withSuggestion(message: string, input: string, known: Iterable<string>): string {
  const match = closest(input, known);
  return match === undefined ? message : `${message}. Did you mean "${match}"?`;
}

/** Optimal string alignment distance (Damerau–Levenshtein without repeated edits of a substring). */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
