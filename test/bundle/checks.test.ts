// The bundle checkers must catch what they claim to catch: each gets snippets it has to reject,
// and code of the same shape that it has to accept (so a pass on the real bundles means something).
import { describe, expect, it } from "vitest";
import {
  findLabels,
  findMissingGlobals,
  findNonAscii,
  findRegexQuestion,
  findBareReturnAtEnd,
  findUnderscoreProps,
  findUseBeforeDeclaration,
  findVarBeforeDeclaration,
  parseES5,
} from "./checks";

const missing = (src: string) => findMissingGlobals(parseES5(src));
const early = (src: string) => findUseBeforeDeclaration(parseES5(src));

describe("parseES5", () => {
  it.each([
    "let x = 1;",
    "const x = 1;",
    "var f = () => 1;",
    "class A {}",
    "var { a } = b;",
    "var s = `t`;",
    "for (var x of y) {}",
    "function f(a = 1) {}",
    "f(...a);",
    "var o = { a };",
    "function* g() {}",
  ])("rejects ES2015+ syntax: %s", (src) => {
    expect(() => parseES5(src)).toThrow(SyntaxError);
  });

  it("rejects a top-level return (module text is a script, not a function body)", () => {
    expect(() => parseES5("return 1;")).toThrow(SyntaxError);
  });

  it("accepts ES5: getters, reserved words as property names, trailing commas", () => {
    expect(() => parseES5("var o = { get x() { return 1; }, default: 2, }; o.new = o.class;")).not.toThrow();
  });
});

describe("findLabels", () => {
  it("rejects a labelled loop (a syntax error on Espruino)", () => {
    expect(findLabels(parseES5("a: for (;;) { for (;;) break a; }"))).toHaveLength(1);
  });
  it("accepts unlabelled break and continue", () => {
    expect(findLabels(parseES5("for (;;) { if (x) continue; break; }"))).toEqual([]);
  });
});

describe("findMissingGlobals", () => {
  it.each([
    "var m = new Map();",
    "var s = new Set([1]);",
    "var w = new WeakMap(), v = new WeakSet();",
    "var i = Symbol.iterator;",
    "Promise.resolve(1).then(f);",
    "Reflect.ownKeys(o);",
    "var p = new Proxy({}, {});",
    "var b = new TextEncoder().encode(s);",
    "var s = new TextDecoder().decode(b);",
    "Object.freeze(o);",
    "Object.assign(a, b);",
    'Object["assign"](a, b);',
    "ArrayBuffer.isView(x);",
    "var a = Array.from(x);",
    "var __extends = function (d, b) {};",
    "var x = __assign({}, y);",
    "function f() { return __awaiter(this, void 0, void 0, function () {}); }",
    "function f() { return function () { return new Map(); }; }",
  ])("rejects %s", (src) => {
    expect(missing(src)).not.toEqual([]);
  });

  it.each([
    "var Map = function () {}; var m = new Map();",
    "function f(Set) { return new Set(); }",
    "try { g(); } catch (Promise) { Promise.x = 1; }",
    "var Object = { freeze: 1 }; Object.freeze(o);",
    "var u = typeof Promise == 'undefined';",
    "x.from(y); o.freeze(p); z.assign = 1;",
    "var o = { Map: 1, Set: 2 }; o.Map = o.Set;",
  ])("accepts %s", (src) => {
    expect(missing(src)).toEqual([]);
  });
});

describe("findUnderscoreProps", () => {
  it.each(["a._x = 1;", 'a["_y"] = 1;', "var o = { _z: 1 };", 'var o = { "_q": 1 };', "a.b._c();"])(
    "rejects an unmangled internal property: %s",
    (src) => {
      expect(findUnderscoreProps(parseES5(src))).toHaveLength(1);
    }
  );
  it("accepts public names, underscore variables and computed keys", () => {
    expect(findUnderscoreProps(parseES5("var _v = a.x; a[_k] = { b: _v }; a.x_y = 1;"))).toEqual([]);
  });
});

describe("findNonAscii", () => {
  it("rejects a non-ASCII character in a string literal", () => {
    expect(findNonAscii('var s = "\u00e9";')).toHaveLength(1);
  });
  it("accepts non-ASCII inside comments", () => {
    expect(findNonAscii("// caf\u00e9\n/* \u2014 */ var s = 1;")).toEqual([]);
  });
});

describe("findUseBeforeDeclaration", () => {
  it.each([
    ["a call before the declaration", "f(); function f() {}"],
    ["the same inside a function (Espruino hoists nowhere)", "function a() { return g(); function g() {} }"],
    ["a reference before the declaration", "exports.f = f; function f() {}"],
    ["new before the declaration", "var o = new F(); function F() {}"],
    ["f.call before the declaration", "f.call(null); function f() {}"],
    ["a callee that calls a later function", "function a() { return b(); } a(); function b() {}"],
    [
      "a callee that calls a later function two steps away",
      "function a() { return b(); } function b() { return c(); } a(); function c() {}",
    ],
    [
      "a callee whose nested function calls a later one",
      "function o() { function i() { return later(); } return i(); } o(); function later() {}",
    ],
    ["a function expression in a var that calls a later function", "var g = function () { return h(); }; g(); function h() {}"],
    ["an IIFE that calls a later function", "(function () { f(); })(); function f() {}"],
    ["a negated IIFE (terser's shape)", "!function () { f(); }(); function f() {}"],
    ["an IIFE run with .call", "(function () { f(); }).call(this); function f() {}"],
    ["an IIFE's own later function", "(function () { g(); function g() {} })();"],
    ["a later function used inside a catch block", "try { x(); } catch (e) { f(); } function f() {}"],
  ])("rejects %s", (_what, src) => {
    expect(early(src)).not.toEqual([]);
  });

  it.each([
    ["declared, then called", "function f() {} f();"],
    ["a callee whose callees are all declared before the call", "function a() { return b(); } function b() {} a();"],
    ["a function exported before a function it calls is declared", "function a() { return b(); } exports.a = a; function b() {}"],
    ["a callback that runs later", "setTimeout(function () { f(); }, 0); function f() {}"],
    ["a var function called after everything it needs", "var cb = function () { return g(); }; function g() {} cb();"],
    ["a local that shadows a later function", "function a() { var b = 1; return b; } a(); function b() {}"],
    ["recursion", "function f(n) { return n ? f(n - 1) : 0; } f(3);"],
    ["mutual recursion", "function a(n) { return n && b(n - 1); } function b(n) { return a(n); } a(2);"],
    ["a named function expression calling itself", "var f = function g(n) { return n && g(n - 1); }; f(1);"],
  ])("accepts %s", (_what, src) => {
    expect(early(src)).toEqual([]);
  });
});

describe("findRegexQuestion", () => {
  const regex = (src: string) => findRegexQuestion(parseES5(src));
  it.each([
    ["an optional character (the bug fixed in connect)", "var ok = /^mqtts?$/.test(s);"],
    ["an optional group", "var r = /^(ab)?c$/;"],
    ["an optional class", "var r = /[0-9]?x/;"],
    ["an optional escape", "var r = /a\\d?/;"],
    ["an optional escaped parenthesis", "var r = /\\(?x/;"],
    ["an optional group that is not capturing", "var r = /(?:ab)?/;"],
    ["a lazy star", "var r = /a.*?b/;"],
    ["a lazy plus", "var r = /a+?/;"],
    ["a lazy interval", "var r = /a{2,3}?/;"],
    ["a string given to new RegExp", 'var r = new RegExp("^mqtts?://");'],
    ["a string given to RegExp", 'var r = RegExp("x?", "g");'],
  ])("rejects %s", (_what, src) => {
    expect(regex(src)).not.toEqual([]);
  });
  it("names the lazy quantifier", () => {
    expect(regex("var r = /a*?b/;")).toEqual([expect.stringMatching(/lazy quantifier "\*\?"/)]);
  });
  it.each([
    ["a ? in a class", "var r = /[?*]+/;"],
    ["an escaped ?", "var r = /a\\?b/;"],
    ["a group opener", "var r = /(?:ab)+(?=c)(?!d)/;"],
    ["a ] escaped in a class, then a plain star", "var r = /[\\]?]*/;"],
    ["? in an ordinary string", 'var s = "mqtts?"; s.split("?");'],
    ["a regex without quantifier ?", "var r = /^[a-z]+:\\/\\/[^/]*$/;"],
  ])("accepts %s", (_what, src) => {
    expect(regex(src)).toEqual([]);
  });
});

describe("findBareReturnAtEnd", () => {
  const bare = (src: string) => findBareReturnAtEnd(parseES5(src), src);
  it.each([
    ["an if ending the function (seen in the interpreter)", "function a(){if(1)return}"],
    ["a loop ending the function (seen in the interpreter)", "function b(){for(var i=0;i<3;i++)if(i==1)return}"],
    ["a function expression", "var f=function(r){if(r)return};"],
  ])("rejects %s", (_what, src) => {
    expect(bare(src)).not.toEqual([]);
  });
  it.each([
    ["return; (seen in the interpreter)", "function c(){if(1)return;}"],
    ["a return with a value", "function d(){var x=1;if(x)return 2}"],
    ["a return before more statements", "function g(x){if(x)return;x=1}"],
    ["a return closing a block inside the function", "function h(r){if(r){return}}"],
  ])("accepts %s", (_what, src) => {
    expect(bare(src)).toEqual([]);
  });
});

describe("findVarBeforeDeclaration", () => {
  const late = (src: string) => findVarBeforeDeclaration(parseES5(src));
  it.each([
    "function f(r){return n=g(r),i=h(),k(n,i);var n,i}", // terser's inlined locals
    "function f(){a=1;var a;return a}",
    "var x=y;var y=1;",
    "function f(){if(q)return b;var b=2}",
  ])("rejects %s", (src) => expect(late(src)).not.toEqual([]));
  it.each([
    "function f(){var n=g(),i=h();return k(n,i)}",
    "function f(n){return n=g(n),n;var n}", // a parameter is local from the start
    "function f(){function g(){return a}var a=1;return g()}", // used in a nested function, later
    "function f(){try{g()}catch(e){e=1}var e}",
    "function f(o){return o.n+o.i;var n,i}", // property names are no uses
    "function f(){return{n:1};var n}",
  ])("accepts %s", (src) => expect(late(src)).toEqual([]));
});
