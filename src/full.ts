// The client with every piece, as the node target ships it and as the behaviour tests run it.
import { Client } from "./client";
import { check } from "./pieces/check";
import { handlers } from "./pieces/handlers";
import { events } from "./pieces/events";
import { drain } from "./pieces/drain";
import { stats } from "./pieces/stats";
import { subs } from "./pieces/subs";
import { session } from "./pieces/session";
import { nodeClient } from "./node/node";

var P = (Client as any).prototype;
check(P);
handlers(P);
events(P);
drain(P);
stats(P);
subs(P);
session(P);
// Node only (src/node/): errors in words, `drain`, and the outbox's cap from outboxMax when the
// options have it (the node target's defaults do; the behaviour tests' do not).
if (!__ESPRUINO__) nodeClient(P);

export { Client };
export { options } from "./api";
