// An aedes broker in its own process, so the client benchmarks measure the clients' CPU and not
// the broker's. Listens on 127.0.0.1 (port argv[2], or a free one) with TCP_NODELAY, as a tuned
// broker would; reports { ready, port } and then { subscribed: clientId, topics } on stdout.
import net from "node:net";
import { Aedes } from "aedes";
import { report } from "./lib.mjs";

const broker = await Aedes.createBroker();
broker.on("subscribe", (subs, client) => report({ subscribed: client ? client.id : null, topics: subs.map((s) => s.topic) }));
const server = net.createServer({ noDelay: true }, broker.handle);
server.listen(+(process.argv[2] || 0), "127.0.0.1", () => report({ ready: true, port: server.address().port, pid: process.pid }));
const stop = () => server.close(() => broker.close(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
