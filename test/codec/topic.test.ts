// Topic filter matching (4.7), by the standard's own examples and against a reference matcher
// written level by level from the text.
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { matches, badFilter, badName } from "../../src/codec";

/** The rules of 4.7 applied to split levels: the reference the char-by-char matcher must agree with. */
function reference(f: string, t: string): boolean {
  if (t[0] == "$" && (f[0] == "+" || f[0] == "#")) return false; // [MQTT-4.7.2-1]
  const fl = f.split("/"), tl = t.split("/");
  for (let i = 0; i < fl.length; i++) {
    if (fl[i] == "#") return true; // this level and all below, the parent included
    if (i >= tl.length) return false;
    if (fl[i] != "+" && fl[i] != tl[i]) return false;
  }
  return fl.length == tl.length;
}

describe("topic matching", () => {
  const cases: [string, string, boolean][] = [
    // 4.7.1.2
    ["sport/tennis/player1/#", "sport/tennis/player1", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/ranking", true],
    ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true],
    ["sport/#", "sport", true],
    ["#", "sport/tennis", true],
    // 4.7.1.3
    ["sport/tennis/+", "sport/tennis/player1", true],
    ["sport/tennis/+", "sport/tennis/player1/ranking", false],
    ["sport/+", "sport", false],
    ["sport/+", "sport/", true],
    ["+/+", "/finance", true],
    ["/+", "/finance", true],
    ["+", "/finance", false],
    // 4.7.2
    ["#", "$SYS/x", false],
    ["+/monitor/Clients", "$SYS/monitor/Clients", false],
    ["$SYS/#", "$SYS/monitor/Clients", true],
    ["$SYS/monitor/+", "$SYS/monitor/Clients", true],
    // 4.7.3: case-sensitive, no normalisation [MQTT-4.7.3-4]
    ["ACCOUNTS", "Accounts", false],
    ["a/b", "a/b/", false],
    ["a//b", "a//b", true],
    ["a/+/b", "a//b", true],
    ["é/+", "é/x", true],
  ];
  for (const [f, t, want] of cases)
    it(`${want ? "matches" : "does not match"} topic "${t}" with filter "${f}" [MQTT-4.7.1-2, MQTT-4.7.1-3, MQTT-4.7.2-1]`, () => {
      expect(matches(f, t)).toBe(want);
      expect(reference(f, t)).toBe(want);
    });

  it("agrees with the level-by-level reference on random filters and topics", () => {
    const level = fc.string({ unit: fc.constantFrom("a", "b", "$"), maxLength: 2 });
    const topic = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join("/")).filter((t) => t.length > 0);
    const filter = fc
      .tuple(fc.array(fc.oneof(level, fc.constant("+")), { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([l, hash]) => (hash ? [...l, "#"] : l).join("/"))
      .filter((f) => f.length > 0);
    fc.assert(
      fc.property(filter, topic, (f, t) => {
        expect(badFilter(f)).toBe(false);
        expect(badName(t)).toBe(false);
        expect(matches(f, t)).toBe(reference(f, t));
      }),
      { numRuns: 500 }
    );
  });
});
