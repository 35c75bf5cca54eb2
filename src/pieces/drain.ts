// mqttiny-drain: end() waits for the outbox (at most connectTimeout) before its DISCONNECT, unless
// end(true); without it end() disconnects at once and fails what is queued with 108.
import { S } from "../client";

export function drain(P: any) {
  P._endCheck = function () {
    var c = this;
    if (c._force || c._state != S.Connected || !c._on || c._now - c._endAt >= c._ct) c._finish();
  };
}
