// README.md's fenced code blocks, as the tests that run them read them (test/pack/readme.test.ts on
// the QuickJS board, test/espruino/readme.test.ts in the real interpreter).

export interface Block {
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  heading: string;
  /** `<!-- not-run: reason -->` before the block. */
  skip?: string;
  /** `<!-- run: node -->` before the block. */
  node?: boolean;
}

/** The fenced blocks of `md` with the language `lang`, each with its section and its marker comment. */
export function blocks(md: string, lang: string): Block[] {
  const out: Block[] = [];
  let heading = "", prev = "", open: Block | null = null, other = false, body: string[] = [];
  md.split("\n").forEach((l, i) => {
    if (open || other) {
      if (/^```\s*$/.test(l)) {
        if (open) out.push({ ...open, code: body.join("\n") });
        open = null;
        other = false;
        prev = "";
      } else body.push(l);
      return;
    }
    const m = /^```(\w*)/.exec(l);
    if (m) {
      body = [];
      if (m[1] !== lang) other = true;
      else {
        open = { code: "", line: i + 1, heading };
        const skip = /^<!--\s*not-run:\s*(.*?)\s*-->$/.exec(prev);
        if (skip) open.skip = skip[1];
        if (/^<!--\s*run:\s*node\s*-->$/.test(prev)) open.node = true;
      }
      return;
    }
    if (/^#{1,6} /.test(l)) heading = l.replace(/^#+\s*/, "");
    if (l.trim()) prev = l.trim();
  });
  return out;
}

/** The board target a block is for: the section it stands in (ESP8266, Pico/Espruino WiFi, else ESP32). */
export function targetOf(b: Block): string {
  if (/ESP8266/.test(b.heading) && !/Pico/.test(b.heading)) return "espruino-esp8266";
  if (/Pico|Espruino WiFi/.test(b.heading)) return "espruino-stm32";
  return "espruino-esp32";
}
