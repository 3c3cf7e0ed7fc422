/*
 * sdehub widget host, the widget side: one widget iframe speaking LivePerson's Agent Workspace
 * Widget SDK wire (the Chronos PostMessageCourier, docs/widgets.md): the handshake, the
 * envelopes, and the dispatch of the widget's requests and commands.
 *
 * Included beside widget-host.js, which builds one WidgetFrame per widget; everything that talks
 * to sdehub (the widget list, the websocket) and the mount options' defaults are there.
 */
(function () {
  "use strict";

  const MANAGER = "iFrame manager"; // every widget -> host message, and bound-key pushes
  const EVENTS = "iFrame events"; // host -> widget events of the newer SDK builds
  // An offer no widget acknowledged: its port is closed after this (see offer()).
  const UNANSWERED_OFFER_MS = 60000;
  // The sandbox recommended for widget hosts: allow-same-origin keeps the widget's own origin,
  // so the handshake can target exactly that origin.
  const SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups";

  function hex(n) {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  }

  // Chronos' random part "xxxxxx-4xxx-yxxx"; only the prefixes matter to the widget.
  function randomPart() {
    return hex(6) + "-4" + hex(3) + "-" + "89ab"[Math.floor(Math.random() * 4)] + hex(3);
  }

  function errorValue(message) {
    // The SDK turns {type: "Error", message} back into an Error instance.
    return { type: "Error", message: String(message) };
  }

  // The iframe src: the widget URL plus the query parameters the SDK reads, inserted
  // before any fragment (the SDK reads the query string only) and leaving the rest untouched.
  function frameSrc(url, transport, json) {
    const hash = url.indexOf("#");
    const base = hash < 0 ? url : url.slice(0, hash);
    const fragment = hash < 0 ? "" : url.slice(hash);
    let params = "lpHost=" + encodeURIComponent(window.location.origin);
    if (transport === "polyfill") params += "&lpPMCPolyfill=true";
    if (json) params += "&lpPMDeSerialize=true";
    const joiner = base.indexOf("?") < 0 ? "?" : /[?&]$/.test(base) ? "" : "&";
    return base + joiner + params + fragment;
  }

  /* ------------------------------------------------------------------------------------------
   * One widget iframe: handshake, envelopes, dispatch.
   * ---------------------------------------------------------------------------------------- */
  class WidgetFrame {
    constructor(host, widget, conversationId) {
      this.host = host;
      this.widget = widget;
      this.conversationId = conversationId;
      this.options = host.options;
      this.transport = this.options.transport === "polyfill" ? "polyfill" : "channel";
      this.json = !!this.options.json;
      this.origin = new URL(widget.url, window.location.href).origin;
      this.portId = "LPPort__" + randomPart(); // our polyfill wrapper id
      this.ready = false;
      this.token = null;
      this.ports = []; // every port offered in this document; each may carry requests
      this.activePort = null; // the last port that acknowledged
      this.outbox = []; // host-initiated envelopes waiting for the handshake
      this.bound = new Set(); // keys the widget bound: only these are pushed
      this.sentCommands = new Map(); // our Notify commands awaiting the widget's return
      this.visitorBlurred = false;
      this.timers = new Set();
      this.live = host.live((m) => this.onPush(m));
      this.live.rebind = () =>
        [...this.bound].map((key) => ({ conversationId: this.conversationId, key }));

      const section = (this.element = document.createElement("section"));
      section.className = "sdehub-widget";
      section.dataset.widgetId = widget.id;
      section.dataset.state = "loading";
      const title = document.createElement("h3");
      title.textContent = widget.name;
      const iframe = (this.iframe = document.createElement("iframe"));
      iframe.title = widget.name;
      iframe.setAttribute("sandbox", SANDBOX);
      iframe.style.cssText = "width:100%;height:320px;border:1px solid #ccd;border-radius:4px";
      // A reload or navigation is a new document and a new SDK instance: handshake again.
      iframe.addEventListener("load", () => this.onLoad());
      iframe.src = frameSrc(widget.url, this.transport, this.json);
      section.append(title, iframe);
    }

    setState(state) {
      this.element.dataset.state = state;
    }

    onLoad() {
      this.ready = false;
      this.setState("loading");
      this.closePorts();
      this.outbox = [];
      // The previous document's bindings die with it: stop sdehub pushing them.
      for (const key of this.bound) {
        this.live.call({ type: "unbind", conversationId: this.conversationId, key }).catch(() => {});
      }
      this.bound.clear();
      // A fresh token per document: late messages of the previous document no longer match.
      this.token = "LPTKN_" + randomPart();
      clearInterval(this.offerTimer);
      this.offer();
      const every = this.host.handshakeRetryMs();
      this.offerTimer = setInterval(() => {
        // In polyfill mode a connected widget keeps listening on window, so re-offering after
        // success would restart its courier; MessageChannel couriers ignore extra offers.
        if (!this.ready || this.transport === "channel") this.offer();
      }, every);
    }

    offer() {
      const target = this.iframe.contentWindow;
      if (!target) return;
      if (this.transport === "polyfill") {
        target.postMessage(this.token, this.origin);
        return;
      }
      // A fresh channel each time: the previous port2 was transferred away. An offer that was
      // never acknowledged is closed after a minute (a widget answers at once, but an answer
      // may be in flight when the next offer goes out, so the recent ones stay open).
      const now = Date.now();
      this.ports = this.ports.filter((p) => {
        if (p.acked || now - p.offered < UNANSWERED_OFFER_MS) return true;
        p.port.close();
        return false;
      });
      const channel = new MessageChannel();
      const entry = { port: channel.port1, acked: false, offered: now };
      channel.port1.onmessage = (e) => this.onPortMessage(entry, e.data);
      this.ports.push(entry);
      // Exact target origin: a document of any other origin in that iframe never gets a port.
      target.postMessage(this.token, this.origin, [channel.port2]);
    }

    closePorts() {
      this.ports.forEach((p) => p.port.close());
      this.ports = [];
      this.activePort = null;
    }

    onPortMessage(entry, data) {
      if (typeof data === "string" && data === "HNDSK" + this.token) {
        entry.acked = true;
        this.activePort = entry.port;
        this.onReady();
        return;
      }
      this.onEnvelope(this.decode(data), entry.port);
    }

    // Polyfill mode: messages come to our window; only this iframe's window, from the widget's
    // origin, counts.
    onWindowMessage(event) {
      if (event.source !== this.iframe.contentWindow || event.origin !== this.origin) return false;
      let wrapper = event.data;
      if (typeof wrapper === "string") {
        try {
          wrapper = JSON.parse(wrapper);
        } catch (err) {
          return true;
        }
      }
      if (!wrapper || typeof wrapper.port !== "string" || wrapper.port.indexOf("LPPort_") !== 0) {
        return true;
      }
      const inner = wrapper.message;
      if (typeof inner === "string" && inner === "HNDSK" + this.token) {
        this.onReady();
        return true;
      }
      this.onEnvelope(this.decode(inner), null);
      return true;
    }

    decode(data) {
      // Accept an object or a JSON string whatever mode we chose.
      if (typeof data !== "string") return data;
      try {
        return JSON.parse(data);
      } catch (err) {
        return null;
      }
    }

    onReady() {
      const first = !this.ready;
      this.ready = true;
      this.setState("ready");
      if (!first) return;
      // The SDK assumes a focused visitor at start: only a blur is news.
      if (this.visitorBlurred) this.trigger(EVENTS, "Visitor Blurred", {});
      const queued = this.outbox.splice(0);
      queued.forEach((envelope) => this.post(envelope, null));
    }

    post(envelope, via) {
      if (this.transport === "polyfill") {
        const target = this.iframe.contentWindow;
        if (!target) return;
        const wrapper = this.json
          ? JSON.stringify({ port: this.portId, message: JSON.stringify(envelope) })
          : { port: this.portId, message: envelope };
        target.postMessage(wrapper, this.origin);
        return;
      }
      const port = via || this.activePort;
      if (!port) return;
      port.postMessage(this.json ? JSON.stringify(envelope) : envelope);
    }

    send(name, args, via) {
      const envelope = {
        method: { id: "LPMSG_" + name + "_" + randomPart(), name, args },
        token: this.token,
      };
      if (!this.ready) this.outbox.push(envelope);
      else this.post(envelope, via);
      return envelope.method.id;
    }

    reply(id, args, via) {
      if (this.destroyed) return;
      this.post({ method: { id, name: "return", args }, token: this.token }, via);
    }

    trigger(appName, eventName, data) {
      this.send("trigger", [{ appName, eventName, data }], null);
    }

    onEnvelope(message, via) {
      // Wrong token or no method: dropped silently, as the SDK does.
      if (!message || message.token !== this.token || !message.method) return;
      const method = message.method;
      if (typeof method.id !== "string" || !Array.isArray(method.args)) return;
      if (method.name === "return") {
        const sent = this.sentCommands.get(method.id);
        if (sent) {
          clearTimeout(sent);
          this.sentCommands.delete(method.id);
        }
        return;
      }
      if (method.name !== "request" && method.name !== "command") return; // triggers: none expected
      const descriptor = method.args[0] || {};
      const answer = (args) => this.reply(method.id, args, via);
      if (descriptor.appName !== MANAGER) {
        answer(["Unsupported " + method.name + " on appName " + JSON.stringify(descriptor.appName)]);
        return;
      }
      const data = descriptor.data || {};
      if (method.name === "request") this.onRequest(descriptor.reqName, data, answer);
      else this.onCommand(descriptor.cmdName, data, answer);
    }

    // Every request and command gets exactly one reply, within the reply timeout.
    guarded(what, work, answer) {
      const ms = this.host.replyTimeoutMs();
      let done = false;
      const once = (args) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.timers.delete(timer);
        answer(args);
      };
      const timer = setTimeout(
        () => once([errorValue(what + ": sdehub did not answer within " + ms + " ms")]),
        ms
      );
      this.timers.add(timer);
      Promise.resolve()
        .then(work)
        .then(once, (err) => once([errorValue(err && err.message ? err.message : err)]));
    }

    onRequest(reqName, data, answer) {
      if (reqName !== "Get") {
        // Chronos never answers unknown requests (the widget waits 30 s); we say so at once.
        answer(["Unsupported request: " + reqName]);
        return;
      }
      if (typeof data.key !== "string" || !data.key) {
        answer([errorValue("Get needs data.key")]);
        return;
      }
      this.guarded(
        "Get " + data.key,
        () =>
          this.live
            .call({ type: "get", conversationId: this.conversationId, key: data.key })
            // Always fill the error slot with null on success; "no value" is null.
            .then((m) => [null, m.value === undefined ? null : m.value]),
        answer
      );
    }

    onCommand(cmdName, data, answer) {
      const composer = this.options.composer || {};
      switch (cmdName) {
        case "Initialize": // build B / current SDK; ready is the handshake, not this
          answer([null]);
          return;
        case "Bind":
        case "Unbind":
          if (typeof data.key !== "string" || !data.key) {
            answer([errorValue(cmdName + " needs data.key")]);
            return;
          }
          if (cmdName === "Bind") this.bind(data.key, answer);
          else this.unbind(data.key, answer);
          return;
        case "Write ChatLine":
          if (typeof data.text !== "string") {
            answer([errorValue("Write ChatLine needs data.text (a string)")]);
            return;
          }
          this.guarded(
            "Write ChatLine",
            () => Promise.resolve(composer.writeChatLine(data.text)).then(() => [null]),
            answer
          );
          return;
        case "Write StructuredContent":
          if (!data.json || typeof data.json !== "object") {
            answer([errorValue("Write StructuredContent needs data.json (an object)")]);
            return;
          }
          this.guarded(
            "Write StructuredContent",
            () => Promise.resolve(composer.writeStructuredContent(data.json, data)).then(() => [null]),
            answer
          );
          return;
        case "Send Notification":
          if (this.options.notify) {
            this.options.notify(this.widget.name + ": " + (data.text || "notification"));
          }
          answer([null]);
          return;
        case "Send File":
          // sdehub's agent workspace has no file sharing: say so rather than pretend.
          answer([errorValue("Send File is not supported by this agent workspace")]);
          return;
        default:
          answer(["Unsupported command: " + cmdName]);
      }
    }

    bind(key, answer) {
      // Pushes are forwarded from now on (the first push may precede the ok: both orders work).
      this.bound.add(key);
      this.guarded(
        "Bind " + key,
        () =>
          this.live.call({ type: "bind", conversationId: this.conversationId, key }).then(
            () => [null],
            (err) => {
              this.bound.delete(key);
              throw err;
            }
          ),
        answer
      );
    }

    unbind(key, answer) {
      // Stop pushing at once: build B keeps its listener after unbind.
      if (!this.bound.delete(key)) {
        answer([null]);
        return;
      }
      this.guarded(
        "Unbind " + key,
        () =>
          this.live
            .call({ type: "unbind", conversationId: this.conversationId, key })
            .then(() => [null]),
        answer
      );
    }

    onPush(m) {
      if (m.conversationId !== this.conversationId) return;
      // A bound pseudo object (SDE, authenticatedData) is pushed per child: deliver it on the
      // event the widget listens to (the bound key), naming the child in data.key.
      let eventName = null;
      if (this.bound.has(m.key)) eventName = m.key;
      else {
        for (const key of this.bound) {
          if (m.key.indexOf(key + ".") === 0) eventName = key;
        }
      }
      if (eventName === null || m.newValue === undefined) return;
      this.trigger(MANAGER, eventName, { key: m.key, newValue: m.newValue });
    }

    visitor(blurred) {
      if (this.visitorBlurred === blurred) return;
      this.visitorBlurred = blurred;
      if (this.ready) this.trigger(EVENTS, blurred ? "Visitor Blurred" : "Visitor Focused", {});
    }

    notifyWidget(data) {
      // Both SDK generations: the newer listens to the event, the 2016 build to the command.
      this.trigger(EVENTS, "Notify", data);
      const id = this.send("command", [{ appName: MANAGER, cmdName: "Notify", data }], null);
      const ms = this.host.replyTimeoutMs();
      this.sentCommands.set(
        id,
        setTimeout(() => this.sentCommands.delete(id), ms)
      );
    }

    destroy() {
      this.destroyed = true;
      clearInterval(this.offerTimer);
      this.timers.forEach((t) => clearTimeout(t));
      this.sentCommands.forEach((t) => clearTimeout(t));
      this.closePorts();
      this.live.close();
      this.element.remove();
    }
  }

  // widget-host.js reads it from here when it builds the frames (either script may run first).
  window.SdehubWidgetHost = Object.assign(window.SdehubWidgetHost || {}, { WidgetFrame });
})();
