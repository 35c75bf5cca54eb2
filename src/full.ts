// The client with every piece, as the node target ships it and as the behaviour tests run it.
import { Client } from "./client";
import { check } from "./pieces/check";
import { handlers } from "./pieces/handlers";
import { events } from "./pieces/events";
import { drain } from "./pieces/drain";
import { stats } from "./pieces/stats";

var P = (Client as any).prototype;
check(P);
handlers(P);
events(P);
drain(P);
stats(P);

export { Client };
export { options } from "./api";
