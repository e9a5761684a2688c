// The page's one WebSocket: JSON messages, reconnects by itself with backoff, and tells the
// page when the connection is lost or back.
export class LessonSocket {
  constructor(url, { onMessage, onOpen, onState }) {
    this.url = url;
    this.onMessage = onMessage;
    this.onOpen = onOpen;
    this.onState = onState;
    this.delay = 250;
    this.ws = null;
    this.closedByUs = false;
    this.connect();
  }

  connect() {
    this.onState("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 250;
      this.onState("open");
      this.onOpen();
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.closedByUs) return;
      this.onState("lost", ev.code, ev.reason);
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(msg));
      return true;
    }
    return false;
  }
}
