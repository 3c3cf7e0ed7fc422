// The page's agent workspace websocket: the selected conversation's bindings and their pushes. A
// dropped connection reconnects with a growing delay; the server's bindings die with it, so
// onReady is where the page binds (again).

export class LiveSocket {
  // url() is read at every connect (the bearer may have changed); handlers: onReady(),
  // onPush(message), onRefused(text) and onEnded() (the server refused the bearer: close 4401).
  constructor(url, { onReady, onPush, onRefused, onEnded }) {
    this.url = url;
    this.handlers = { onReady, onPush, onRefused, onEnded };
    this.ws = null;
    this.ready = false;
    this.messageId = 0;
    this.reconnectMs = 500;
  }

  connect() {
    const ws = new WebSocket(this.url());
    this.ws = ws;
    this.ready = false;
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "ready") {
        this.ready = true;
        this.reconnectMs = 500;
        this.handlers.onReady();
      } else if (message.type === "push") {
        this.handlers.onPush(message);
      } else if (message.type === "error" && message.id === null) {
        this.handlers.onRefused(message.message);
      }
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return; // replaced or closed
      this.ready = false;
      if (event.code === 4401) {
        this.handlers.onEnded();
        return;
      }
      this.reconnectMs = Math.min(this.reconnectMs * 2, 10000);
      setTimeout(() => { if (this.ws === ws) this.connect(); }, this.reconnectMs);
    };
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    this.messageId += 1;
    this.ws.send(JSON.stringify({ id: this.messageId, ...message }));
  }

  close() {
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) ws.close();
  }
}
