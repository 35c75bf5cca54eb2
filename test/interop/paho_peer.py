#!/usr/bin/env python3
# A paho-mqtt (1.x) peer for test/interop/matrix.test.ts, driven by JSON lines on stdin and
# reporting JSON lines on stdout. One process holds any number of named MQTT 3.1.1 clients.
# Payloads travel as hex, so every byte value survives.
#
# Commands: {"op":"connect","c":name,"port":p,"id":clientId,"clean":bool,"will":{topic,hex,qos,retain}?}
#           {"op":"sub","c":name,"filters":[...],"qos":q,"tag":t}
#           {"op":"pub","c":name,"topic":t,"hex":h,"qos":q,"retain":bool,"tag":t}
#           {"op":"disconnect","c":name,"tag":t}    a clean DISCONNECT
#           {"op":"abort","c":name,"tag":t}         the socket shut down without DISCONNECT
# Events:   {"ev":"connected","c":name,"rc":rc} {"ev":"done","tag":t,...} {"ev":"msg","c":name,
#           "topic":..,"hex":..,"qos":..,"retain":..} {"ev":"error","msg":..}
import json
import socket
import sys
import threading

import paho.mqtt.client as mqtt

lock = threading.Lock()
clients = {}


def emit(o):
    with lock:
        sys.stdout.write(json.dumps(o) + "\n")
        sys.stdout.flush()


def make(name, cmd):
    c = mqtt.Client(client_id=cmd["id"], clean_session=cmd.get("clean", True), protocol=mqtt.MQTTv311)
    pending = {}  # mid -> tag, for SUBACK and PUBACK
    early = {}  # mid -> result, for an ack handled before its call returned the mid
    c._pending = pending
    c._early = early
    c._plock = threading.Lock()
    w = cmd.get("will")
    if w:
        c.will_set(w["topic"], bytes.fromhex(w["hex"]), w.get("qos", 0), w.get("retain", False))

    def on_connect(client, userdata, flags, rc):
        emit({"ev": "connected", "c": name, "rc": rc})

    def on_message(client, userdata, m):
        emit({"ev": "msg", "c": name, "topic": m.topic, "hex": m.payload.hex(), "qos": m.qos, "retain": bool(m.retain)})

    def done(mid, extra):
        with c._plock:
            tag = pending.pop(mid, None)
            if tag is None:
                early[mid] = extra
        if tag is not None:
            o = {"ev": "done", "tag": tag}
            o.update(extra)
            emit(o)

    def on_subscribe(client, userdata, mid, granted):
        done(mid, {"granted": list(granted)})

    def on_publish(client, userdata, mid):
        done(mid, {})

    c.on_connect = on_connect
    c.on_message = on_message
    c.on_subscribe = on_subscribe
    c.on_publish = on_publish
    c.connect("127.0.0.1", cmd["port"], keepalive=30)
    c.loop_start()
    return c


def track(c, tag, call):
    # paho calls on_publish/on_subscribe from its network thread while holding its own locks, and
    # possibly before call() returns the mid: so no lock of ours is held around call().
    rc, mid = call()
    if rc != mqtt.MQTT_ERR_SUCCESS:
        emit({"ev": "done", "tag": tag, "error": rc})
        return
    with c._plock:
        extra = c._early.pop(mid, None)
        if extra is None:
            c._pending[mid] = tag
    if extra is not None:
        o = {"ev": "done", "tag": tag}
        o.update(extra)
        emit(o)


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            op, name = cmd["op"], cmd.get("c")
            if op == "connect":
                clients[name] = make(name, cmd)
            elif op == "sub":
                c = clients[name]
                track(c, cmd["tag"], lambda: c.subscribe([(f, cmd["qos"]) for f in cmd["filters"]]))
            elif op == "pub":
                c = clients[name]

                def send():
                    info = c.publish(cmd["topic"], bytes.fromhex(cmd["hex"]), cmd["qos"], cmd.get("retain", False))
                    return info.rc, info.mid

                # on_publish: once written (QoS 0) or acknowledged (QoS 1).
                track(c, cmd["tag"], send)
            elif op == "disconnect":
                c = clients.pop(name)
                c.disconnect()
                c.loop_stop()
                emit({"ev": "done", "tag": cmd["tag"]})
            elif op == "abort":
                c = clients.pop(name)
                c._thread_terminate = True  # no automatic reconnect after the socket dies
                s = c.socket()
                if s is not None:
                    s.shutdown(socket.SHUT_RDWR)
                c.loop_stop()
                emit({"ev": "done", "tag": cmd["tag"]})
            else:
                emit({"ev": "error", "msg": "unknown op " + op})
        except Exception as e:  # reported, the peer carries on
            emit({"ev": "error", "msg": repr(e), "tag": cmd.get("tag") if isinstance(cmd, dict) else None})
    for c in clients.values():
        c.loop_stop()


if __name__ == "__main__":
    main()
