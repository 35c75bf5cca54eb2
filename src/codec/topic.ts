// Topic names and topic filters (4.7). Checks and matching read chars in place: no split, no
// arrays, no allocation.

/** True when `t` cannot be a topic name: empty or with a wildcard [MQTT-4.7.1-1, MQTT-4.7.3-1]. */
export function badName(t: string): boolean {
  for (var i = 0, c; i < t.length; i++) if (__ESPRUINO__ ? t[i] == "#" || t[i] == "+" : (c = t.charCodeAt(i)) == 35 || c == 43) return true;
  return !t;
}

/**
 * True when `f` cannot be a topic filter: empty, '#' not alone at the last level
 * [MQTT-4.7.1-2], '+' not a whole level [MQTT-4.7.1-3].
 */
export function badFilter(f: string): boolean {
  for (var i = 0, l = f.length, c; i < l; i++)
    if (((c = f[i]) == "#" || c == "+") && ((i && f[i - 1] != "/") || (i + 1 < l && (c == "#" || f[i + 1] != "/")))) return true;
  return !l;
}

/**
 * Whether topic name `t` matches filter `f` (both already valid), char by char: '+' one level,
 * '#' this level and all below, including the parent ("a/#" matches "a"); a filter starting
 * with a wildcard never matches a topic starting with '$' [MQTT-4.7.2-1].
 */
export function matches(f: string, t: string): boolean {
  var fl = f.length, tl = t.length, i = 0, j = 0;
  if (t.charCodeAt(0) == 36 && (f.charCodeAt(0) == 35 || f.charCodeAt(0) == 43)) return false;
  while (i < fl) {
    var c = f.charCodeAt(i);
    if (c == 35) return true;
    if (c == 43) {
      while (j < tl && t.charCodeAt(j) != 47) j++;
      i++;
    } else {
      if (j >= tl) {
        // "a/#" matches "a": the filter's rest is exactly "/#"
        return c == 47 && i + 2 == fl && f.charCodeAt(i + 1) == 35;
      }
      if (c != t.charCodeAt(j)) return false;
      i++;
      j++;
    }
  }
  return j == tl;
}
