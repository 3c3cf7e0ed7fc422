/*
 * sdehub widget host: the agent workspace's side of LivePerson's Agent Workspace Widget SDK
 * protocol (the Chronos PostMessageCourier wire, docs/widgets.md), so a widget written against
 * LivePerson's client SDK runs unchanged in an iframe of our workspace.
 *
 *   const host = SdehubWidgetHost.mount(containerElement, {
 *       accountId, bearer, agentId,
 *       composer: { writeChatLine(text) {}, writeStructuredContent(json) {} },
 *       notify(message) {},
 *       // optional: apiBase, liveUrl, replyTimeoutMs, handshakeRetryMs, transport, json
 *   });
 *   host.setConversation(conversationId, skillId);   // null, null: none selected
 *   host.visitorFocus(); host.visitorBlur(); host.notifyWidgets(data); host.destroy();
 *
 * Get/Bind/Unbind are answered from sdehub's agent-workspace websocket (one per widget iframe,
 * so one widget's Unbind never cancels another's Bind). Everything else is handled by the widget
 * side, widget-frame.js (the handshake, envelopes and dispatch of one widget iframe): a page
 * includes both scripts, in either order.
 */
(function () {
  "use strict";

  // Every request and command gets exactly one reply, and a widget gives up on a reply after
  // 30 s: a request still waiting on sdehub after replyTimeoutMs (the same 30 s by default) is
  // answered with an error and forgotten, so nothing stays pending past the widget's own limit.
  const DEFAULT_REPLY_TIMEOUT_MS = 30000;
  // Chronos re-offers the handshake every 5 s; unlike Chronos we never give up (a widget may
  // call init() late), and keep offering after success so one that calls init() again (a new
  // courier, waiting for a new handshake) reconnects.
  const DEFAULT_HANDSHAKE_RETRY_MS = 5000;

  /* ------------------------------------------------------------------------------------------
   * The websocket to sdehub for one widget: get/bind/unbind by id, pushes to onPush.
   * ---------------------------------------------------------------------------------------- */
  class Live {
    constructor(url, onPush) {
      this.url = url;
      this.onPush = onPush;
      this.ws = null;
      this.open = false;
      this.queue = []; // messages waiting for "ready"
      this.pending = new Map(); // id -> {resolve, reject}
      this.nextId = 1;
      this.closed = false;
      this.rebind = () => []; // keys to bind again after a reconnect
    }

    connect() {
      if (this.ws || this.closed) return;
      const ws = (this.ws = new WebSocket(this.url));
      ws.onmessage = (e) => {
        let m;
        try {
          m = JSON.parse(e.data);
        } catch (err) {
          return;
        }
        if (m.type === "ready") {
          this.open = true;
          const queued = this.queue.splice(0);
          queued.forEach((q) => ws.send(q));
          return;
        }
        if (m.type === "push") {
          this.onPush(m);
          return;
        }
        const waiting = m.id == null ? null : this.pending.get(m.id);
        if (m.type === "error" && m.id == null) {
          // Authentication refused (close 4401 follows): fail everything in flight.
          this.failAll(m.message);
          return;
        }
        if (!waiting) return;
        this.pending.delete(m.id);
        if (m.type === "error") waiting.reject(new Error(m.message));
        else waiting.resolve(m);
      };
      ws.onclose = () => {
        const hadOpened = this.open;
        this.ws = null;
        this.open = false;
        this.failAll("the connection to sdehub closed");
        // A dropped connection loses the server's bindings: reconnect and bind again, so the
        // widget (which still believes it is bound) keeps receiving pushes.
        if (hadOpened && !this.closed) {
          setTimeout(() => {
            const keys = this.rebind();
            if (keys.length) keys.forEach((k) => this.call({ type: "bind", ...k }).catch(() => {}));
          }, 1000);
        }
      };
    }

    failAll(message) {
      const all = [...this.pending.values()];
      this.pending.clear();
      all.forEach((p) => p.reject(new Error(message)));
    }

    call(message) {
      const id = this.nextId++;
      const text = JSON.stringify({ ...message, id });
      return new Promise((resolve, reject) => {
        if (this.closed) {
          reject(new Error("the widget was closed"));
          return;
        }
        this.pending.set(id, { resolve, reject });
        this.connect();
        if (this.open) this.ws.send(text);
        else this.queue.push(text);
      });
    }

    close() {
      this.closed = true;
      this.failAll("the widget was closed");
      if (this.ws) this.ws.close();
      this.ws = null;
    }
  }

  /* ------------------------------------------------------------------------------------------
   * The host: the widget list of the selected conversation's skill, one frame per widget.
   * ---------------------------------------------------------------------------------------- */
  class Host {
    constructor(container, options) {
      this.container = container;
      this.options = options || {};
      this.frames = [];
      this.conversationId = null;
      this.generation = 0;
      this.blurred = false;
      this.onMessage = (event) => {
        for (const frame of this.frames) if (frame.onWindowMessage(event)) return;
      };
      window.addEventListener("message", this.onMessage);
    }

    apiBase() {
      return (this.options.apiBase || window.location.origin).replace(/\/$/, "");
    }

    liveUrl() {
      const o = this.options;
      const base = o.liveUrl || this.apiBase().replace(/^http/, "ws") +
        "/api/account/" + encodeURIComponent(o.accountId) + "/agent-workspace/ws";
      return base + (base.indexOf("?") < 0 ? "?" : "&") + "token=" + encodeURIComponent(o.bearer);
    }

    // The connection to sdehub of one widget frame.
    live(onPush) {
      return new Live(this.liveUrl(), onPush);
    }

    replyTimeoutMs() {
      return this.options.replyTimeoutMs || DEFAULT_REPLY_TIMEOUT_MS;
    }

    handshakeRetryMs() {
      return this.options.handshakeRetryMs || DEFAULT_HANDSHAKE_RETRY_MS;
    }

    async setConversation(conversationId, skillId) {
      const conversation = conversationId || null;
      const skill = skillId == null ? null : String(skillId);
      // The page may repeat the selection (every refresh): only a change rebuilds the widgets.
      if (conversation === this.conversationId && skill === this.skillId) return;
      this.conversationId = conversation;
      this.skillId = skill;
      const generation = ++this.generation;
      // Each conversation gets fresh widget documents: bindings belong to one conversation.
      this.clear();
      if (!this.conversationId) return;
      const o = this.options;
      const query = this.skillId ? "?skillId=" + encodeURIComponent(this.skillId) : "";
      let widgets = [];
      try {
        const r = await fetch(
          this.apiBase() + "/api/account/" + encodeURIComponent(o.accountId) +
            "/agent-workspace/widgets" + query,
          { headers: { Authorization: "Bearer " + o.bearer } }
        );
        if (!r.ok) throw new Error("HTTP " + r.status);
        widgets = (await r.json()).widgets || [];
      } catch (err) {
        if (o.notify) o.notify("Could not load the widgets: " + err.message);
        return;
      }
      if (generation !== this.generation) return; // another conversation was chosen meanwhile
      const WidgetFrame = window.SdehubWidgetHost.WidgetFrame;
      if (widgets.length && !WidgetFrame) {
        if (o.notify) o.notify("Could not load the widgets: widget-frame.js is not on the page");
        return;
      }
      for (const widget of widgets) {
        const frame = new WidgetFrame(this, widget, this.conversationId);
        frame.visitorBlurred = this.blurred;
        this.frames.push(frame);
        this.container.appendChild(frame.element);
      }
    }

    clear() {
      this.frames.forEach((f) => f.destroy());
      this.frames = [];
    }

    visitorFocus() {
      this.blurred = false;
      this.frames.forEach((f) => f.visitor(false));
    }

    visitorBlur() {
      this.blurred = true;
      this.frames.forEach((f) => f.visitor(true));
    }

    notifyWidgets(data) {
      this.frames.forEach((f) => f.notifyWidget(data || {}));
    }

    destroy() {
      this.generation++;
      this.clear();
      window.removeEventListener("message", this.onMessage);
    }
  }

  // widget-frame.js adds WidgetFrame to the same object, before or after this file runs.
  window.SdehubWidgetHost = Object.assign(window.SdehubWidgetHost || {}, {
    mount(container, options) {
      return new Host(container, options);
    },
  });
})();
