// The error codes are written twice: src/errors.ts (a const enum the compiler inlines) and the
// public typings src/mqttiny.d.ts (ErrorCode). They must name the same numbers, and README must
// list every code the typings promise.
import { describe, it, expect } from "vitest";
import fs from "node:fs";
import ts from "typescript";

const root = new URL("../../", import.meta.url);

function enumMembers(file: string, name: string): Map<string, number> {
  const text = fs.readFileSync(new URL(file, root), "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = new Map<string, number>();
  sf.forEachChild(function visit(n) {
    if (ts.isEnumDeclaration(n) && n.name.text == name)
      for (const m of n.members) out.set((m.name as ts.Identifier).text, Number((m.initializer as ts.NumericLiteral).text));
  });
  return out;
}

describe("error codes", () => {
  const internal = enumMembers("src/errors.ts", "Err");
  const typed = enumMembers("src/mqttiny.d.ts", "ErrorCode");

  it("every code in the typings has the same name and number in src/errors.ts", () => {
    expect(typed.size).toBeGreaterThan(30);
    for (const [k, v] of typed) expect([k, internal.get(k)]).toEqual([k, v]);
  });

  it("every code the client can report is in the typings", () => {
    // Refused (300) is a base for 300 + CONNACK return code, NoRoom (109) only an encoder's.
    const reported = [...internal].filter(([k]) => k != "Refused" && k != "NoRoom");
    for (const [k, v] of reported) expect([k, typed.get(k)]).toEqual([k, v]);
  });

  it("README's table lists every code of the typings", () => {
    const readme = fs.readFileSync(new URL("README.md", root), "utf8");
    for (const [k, v] of typed) expect(readme, `${v} ${k}`).toMatch(new RegExp("\\| " + v + " \\| `" + k + "`"));
  });
});
