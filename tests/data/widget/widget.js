/*
 * A test widget: the WIDGET side of the Agent Workspace Widget SDK wire (Chronos
 * PostMessageCourier), written from docs/widgets.md and the protocol notes, not LivePerson's
 * code. It does what the SDK does on the wire — waits for the host's handshake, answers
 * HNDSK+token, stamps the token on every envelope, matches returns by id, calls bound listeners
 * on triggers, answers host commands — and records everything in the DOM (#log) and in
 * window.records, so a browser test can assert what the host sent.
 *
 * The test drives it through window.sdk (get, bind, unbind, command, request, sendRaw), each
 * returning a promise of what the SDK's callbacks would receive.
 */
(function () {
  "use strict";

  // Query parameters as the SDK reads them: name=value up to & # or ;, "+" is a space.
  function param(name) {
    const match = new RegExp("[?&]" + name + "=([^&#;]*)").exec(window.location.search);
    return match ? decodeURIComponent(match[1].replace(/\+/g, " ")) : null;
  }

  const polyfill = param("lpPMCPolyfill") === "true";
  const json = param("lpPMDeSerialize") === "true";
  const lpHost = param("lpHost");
  // The host origin: scheme and host[:port] of lpHost, lower-cased (any path ignored).
  const hostOrigin = lpHost && /^http/.test(lpHost)
    ? (/^(https?:\/\/[^/?#]+)/i.exec(decodeURIComponent(lpHost)) || [])[1].toLowerCase()
    : null;
  const ttl = Number(param("ttl") || 30000);

  let token = null;
  let port = null; // MessageChannel mode
  const portId = "LPPort__" + Math.random().toString(16).slice(2, 8) + "-4abc-8def";
  let ready = false;
  const queue = []; // envelopes queued before the handshake
  const callbacks = new Map(); // id -> {resolve, expires}
  const listeners = new Map(); // eventName -> count of binds
  window.records = [];

  function record(entry) {
    window.records.push(entry);
    const li = document.createElement("li");
    li.dataset.kind = entry.kind;
    if (entry.eventName) li.dataset.event = entry.eventName;
    li.textContent = JSON.stringify(entry);
    document.getElementById("log").appendChild(li);
  }

  function setStatus(text) {
    document.getElementById("status").textContent = text;
  }

  function randomId(action) {
    return "LPMSG_" + action + "_" + Math.random().toString(16).slice(2, 8) + "-4def-9abc";
  }

  function post(envelope) {
    if (polyfill) {
      // The SDK posts to window.top, to the lpHost origin.
      const wrapper = json
        ? JSON.stringify({ port: portId, message: typeof envelope === "string" ? envelope : JSON.stringify(envelope) })
        : { port: portId, message: envelope };
      window.top.postMessage(wrapper, hostOrigin || "*");
    } else {
      port.postMessage(json && typeof envelope !== "string" ? JSON.stringify(envelope) : envelope);
    }
  }

  function send(action, descriptor) {
    const id = randomId(action);
    const envelope = { method: { id, name: action, args: [descriptor] }, token };
    return new Promise((resolve) => {
      callbacks.set(id, { resolve, expires: Date.now() + ttl });
      if (ready) post(envelope);
      else queue.push(id, descriptor, action);
    });
  }

  // The SDK's 30 s callback TTL, checked every second.
  setInterval(() => {
    const now = Date.now();
    for (const [id, cb] of callbacks) {
      if (cb.expires <= now) {
        callbacks.delete(id);
        record({ kind: "timeout", id });
        cb.resolve({ err: { error: "Callback: Operation Timeout!" } });
      }
    }
  }, 1000);

  // What the widget's callback would get: {type: "Error", message} becomes an Error.
  function errOf(value) {
    if (value && value.type === "Error" && typeof value.message === "string") {
      return { error: value.message, isError: true };
    }
    return value;
  }

  function onEnvelope(message) {
    if (typeof message === "string") {
      try {
        message = JSON.parse(message);
      } catch (e) {
        record({ kind: "dropped", why: "not JSON" });
        return;
      }
    }
    if (!message || message.token !== token || !message.method) {
      record({ kind: "dropped", why: "token" });
      return;
    }
    const m = message.method;
    if (m.name === "return") {
      const cb = callbacks.get(m.id);
      if (!cb) return; // extra returns are ignored
      callbacks.delete(m.id);
      cb.resolve({ err: errOf(m.args[0]), value: m.args.length > 1 ? m.args[1] : undefined, args: m.args });
      return;
    }
    const d = m.args[0] || {};
    if (m.name === "trigger") {
      const entry = { kind: "trigger", appName: d.appName, eventName: d.eventName, data: d.data };
      entry.delivered = d.appName === "iFrame events" || (listeners.get(d.eventName) || 0) > 0;
      record(entry);
      return;
    }
    if (m.name === "command") {
      record({ kind: "command", appName: d.appName, cmdName: d.cmdName, data: d.data });
      post({ method: { id: m.id, name: "return", args: [null] }, token });
    }
  }

  function handshake(newToken, viaPort) {
    token = newToken;
    if (viaPort) {
      port = viaPort;
      port.onmessage = (e) => onEnvelope(e.data);
      port.start();
      window.removeEventListener("message", onWindow);
    }
    post("HNDSK" + token);
    ready = true;
    setStatus("connected");
    record({ kind: "ready", mode: polyfill ? "polyfill" : "channel", json });
    // Flush what was queued, on the next tick as the SDK does.
    setTimeout(() => {
      while (queue.length) {
        const [id, descriptor, action] = queue.splice(0, 3);
        post({ method: { id, name: action, args: [descriptor] }, token });
      }
    }, 0);
  }

  function onWindow(e) {
    if (!polyfill) {
      // No origin check on the handshake (the SDK makes none); a port and an LPTKN token.
      if (!port && e.ports && e.ports.length === 1 && typeof e.data === "string" &&
          e.data.indexOf("LPTKN") === 0) {
        handshake(e.data, e.ports[0]);
      }
      return;
    }
    if (e.origin !== hostOrigin) {
      record({ kind: "dropped", why: "origin", origin: e.origin });
      return;
    }
    if (typeof e.data === "string" && e.data.indexOf("LPTKN") === 0) {
      if (!ready) handshake(e.data, null);
      return;
    }
    let wrapper = e.data;
    if (typeof wrapper === "string") {
      try {
        wrapper = JSON.parse(wrapper);
      } catch (err) {
        return;
      }
    }
    if (!wrapper || typeof wrapper.port !== "string" || wrapper.port.indexOf("LPPort_") !== 0) return;
    onEnvelope(wrapper.message);
  }
  window.addEventListener("message", onWindow);

  function call(action, descriptor, what) {
    return send(action, descriptor).then((r) => {
      record({ kind: "return", call: what, err: r.err === undefined ? null : r.err, value: r.value });
      return r;
    });
  }

  const manager = "iFrame manager";
  window.sdk = {
    get: (key) => call("request", { appName: manager, reqName: "Get", data: { key } }, "get " + key),
    bind(key) {
      listeners.set(key, (listeners.get(key) || 0) + 1);
      return call("command", { appName: manager, cmdName: "Bind", data: { key } }, "bind " + key);
    },
    unbind(key) {
      listeners.set(key, Math.max(0, (listeners.get(key) || 0) - 1));
      return call("command", { appName: manager, cmdName: "Unbind", data: { key } }, "unbind " + key);
    },
    command: (cmdName, data) =>
      call("command", { appName: manager, cmdName, data }, "command " + cmdName),
    request: (reqName, data) =>
      call("request", { appName: manager, reqName, data }, "request " + reqName),
    sendFile: (text, name) =>
      call("command", { appName: manager, cmdName: "Send File", data: { file: new Blob([text]), name } }, "command Send File"),
    // An envelope as given (e.g. with a wrong token): no reply is expected.
    sendRaw: (envelope) => post(envelope),
    token: () => token,
    // What a second init() (or dispose() then init()) does in the SDK: a new courier that drops
    // the old channel and waits for a new handshake (MessageChannel mode).
    reinit() {
      if (port) port.close();
      port = null;
      token = null;
      ready = false;
      setStatus("waiting for the host");
      window.addEventListener("message", onWindow);
    },
    // Open a page of another origin inside this widget (origin tests): it learns the token.
    spawn(url) {
      const frame = document.createElement("iframe");
      frame.src = url + "#token=" + encodeURIComponent(token);
      document.body.appendChild(frame);
    },
  };
  setStatus("waiting for the host");
})();
