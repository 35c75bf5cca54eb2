// Terser as the boards need it. A module of its own so the minifying worker threads load terser
// alone, not TypeScript and rollup.
import { minify } from "terser";

/**
 * Names for mangled variables and properties: terser's own scheme (the most frequent characters
 * first, which gzips best) minus "_", so a short name like `_` never looks like an internal field
 * that escaped mangling (test/bundle checks that no `_` property survives).
 */
function nameGenerator() {
  const leading = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$"], digits = [..."0123456789"];
  let freq, chars;
  const byFreq = (a, b) => freq.get(b) - freq.get(a);
  const gen = {
    reset: () => (freq = new Map([...leading, ...digits].map((c) => [c, 0]))),
    consider(str, delta) {
      for (const c of str) if (freq.has(c)) freq.set(c, freq.get(c) + delta);
    },
    sort: () => (chars = [...[...leading].sort(byFreq), ...[...digits].sort(byFreq)]),
    get(n) {
      let s = "", base = leading.length;
      n++;
      do {
        n--;
        s += chars[n % base];
        n = Math.floor(n / base);
        base = chars.length;
      } while (n > 0);
      return s;
    },
  };
  gen.reset();
  gen.sort();
  return gen;
}

/**
 * Terser for Espruino: ES5 only, ASCII only (8-bit strings), `_` properties are internal.
 *
 * `props`, for bundles that share objects (a target's core and its pieces, which patch the core's
 * prototype): `props.cache`, a Map of original to mangled property names, is used and extended, so
 * a name the core mangled gets the same short name here, and a new one a name no entry has; and
 * `props.reserved`, names a new one must not take (the other bundles' public properties). Without
 * it every bundle mangles on its own.
 */
export async function minifyForBoard(code, props) {
  const names = nameGenerator();
  // terser's property name cache ({ props: Map }): the same as its `nameCache.props`, without
  // `nameCache.vars`, which would tie the top-level variables of separate modules together too.
  const properties = { regex: /^_/, nth_identifier: names };
  if (props) Object.assign(properties, { cache: { props: props.cache }, reserved: [...(props.reserved || [])] });
  const r = await minify(code, {
    ecma: 5,
    toplevel: true,
    compress: { ecma: 5, passes: 2, keep_fargs: false, hoist_funs: false }, // a third pass gains ~0 B for 25% more time
    mangle: { toplevel: true, nth_identifier: names, properties },
    format: { ecma: 5, ascii_only: true, comments: false },
  });
  return r.code;
}

/**
 * An Espruino core whose functions Espruino stores pretokenised (keywords as one-byte tokens):
 * E.setFlags({ pretokenise: 1 }) while the module's code runs, the app's setting back after it.
 * Measured in the real interpreter on the ESP32 bundle loaded the Web IDE way: peak while
 * loading 3,394 -> 3,323 JsVars, load cost 1,144 -> 1,048; from Storage unchanged (439 -> 440).
 * Nothing happens where the flag is on already, or where there is no E.getFlags (other engines,
 * or none at all: the bundle must load with only `exports` and `module`).
 * The setting is put back by a timer set before the code runs, cancelled (and done at once) when
 * it has run: a load that stops half way (out of memory) skips the end of the module, and
 * `finally` too (measured: Espruino skips it when it interrupts), but not the timer.
 * `_pt`: a name terser never makes (see nameGenerator), so no function of the bundle takes it.
 */
export function pretokenised(code) {
  return (
    `var _pt=typeof E!="undefined"&&E.getFlags&&E.getFlags().pretokenise===0&&(E.setFlags({pretokenise:1}),setTimeout(E.setFlags,0,{pretokenise:0})||-1);` +
    `${code};if(_pt){clearTimeout(_pt);E.setFlags({pretokenise:0})}`
  );
}
