// Packet tracer: decodes both byte streams of a connection with mqtt-packet's parser and writes one
// readable line per packet. "→" is client to broker, "←" broker to client.
//   → CONNECT clean=1 ka=60 id=dev1 user=*** pass=***
//   ← CONNACK 0 sp=0
//   → PUBLISH q1 id=3 dup t=sensors/temp (5 B)
// Credentials are never printed (only whether they are present); payloads only by size.

import mqtt from "mqtt-packet";

export type Arrow = "→" | "←";

const bit = (b: unknown) => (b ? 1 : 0);

/** One trace line for a decoded packet. */
export function formatPacket(p: any, dir: Arrow): string {
  const name = String(p.cmd).toUpperCase();
  const parts: string[] = [dir, name];
  switch (p.cmd) {
    case "connect":
      if (p.protocolVersion !== 4 || p.protocolId !== "MQTT") parts.push(`proto=${p.protocolId}/${p.protocolVersion}`);
      parts.push(`clean=${bit(p.clean)}`, `ka=${p.keepalive}`, `id=${p.clientId}`);
      if (p.username !== undefined) parts.push("user=***");
      if (p.password !== undefined) parts.push("pass=***");
      if (p.will) parts.push(`will=q${p.will.qos ?? 0}${p.will.retain ? " r" : ""} t=${p.will.topic} (${size(p.will.payload)} B)`);
      break;
    case "connack":
      parts.push(String(p.returnCode), `sp=${bit(p.sessionPresent)}`);
      break;
    case "publish":
      parts.push(`q${p.qos}`);
      if (p.qos > 0) parts.push(`id=${p.messageId}`);
      if (p.dup) parts.push("dup");
      if (p.retain) parts.push("r");
      parts.push(`t=${p.topic}`, `(${size(p.payload)} B)`);
      break;
    case "subscribe":
      parts.push(`id=${p.messageId}`, ...p.subscriptions.map((s: any) => `${s.topic}:q${s.qos}`));
      break;
    case "suback":
      parts.push(`id=${p.messageId}`, `[${p.granted.join(",")}]`);
      break;
    case "unsubscribe":
      parts.push(`id=${p.messageId}`, ...p.unsubscriptions);
      break;
    case "puback": case "pubrec": case "pubrel": case "pubcomp": case "unsuback":
      parts.push(`id=${p.messageId}`);
      break;
  }
  return parts.join(" ");
}

function size(x: any): number {
  if (x == null) return 0;
  return typeof x === "string" ? Buffer.byteLength(x) : x.length;
}

/** Incremental decoder of one direction; malformed input gives a "!!" line and a fresh parser. */
export class StreamDecoder {
  private parser: any;
  constructor(private onPacket: (p: any) => void, private onError: (e: Error) => void) {
    this.parser = this.make();
  }
  push(b: Uint8Array): void {
    this.parser.parse(Buffer.from(b.buffer, b.byteOffset, b.length));
  }
  private make(): any {
    const parser = mqtt.parser({ protocolVersion: 4 });
    parser.on("packet", (p: any) => this.onPacket(p));
    parser.on("error", (e: Error) => {
      this.parser = this.make(); // resynchronising is impossible; start over on later bytes
      this.onError(e);
    });
    return parser;
  }
}

/** Formats both directions of one connection into lines. */
export class PacketTracer {
  private o: StreamDecoder;
  private i: StreamDecoder;
  constructor(emit: (line: string) => void) {
    this.o = new StreamDecoder((p) => emit(formatPacket(p, "→")), (e) => emit(`→ !! malformed: ${e.message}`));
    this.i = new StreamDecoder((p) => emit(formatPacket(p, "←")), (e) => emit(`← !! malformed: ${e.message}`));
  }
  /** Bytes from the client, as they reach the broker. */
  out(b: Uint8Array): void { this.o.push(b); }
  /** Bytes toward the client, as they are delivered. */
  in(b: Uint8Array): void { this.i.push(b); }
}
