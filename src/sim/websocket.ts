import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CODEX_RESPONSES_PATH, streamAnswer, takeTurn, windowHeaders, type EventSink } from './codex-responses.js';
import type { LoggedRequest } from './server.js';
import type { SimState } from './state.js';

/**
 * The Codex responses endpoint over WebSocket (the Codex CLI tries it before HTTPS): the handshake checks the
 * account's token and account id like every codex endpoint and answers 101 with the x-codex-* windows. Then
 * each `response.create` text message is a turn, answered with the same events as over HTTPS, one text frame
 * each (as the real backend does); any other text message is echoed, so that a tunnel test sees frames both ways.
 */
/** The Responses endpoint, as a WebSocket. */
export const WS_PATH = CODEX_RESPONSES_PATH;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ detail: reason });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
}

/** One unmasked frame (server to client). */
function frame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : n < 65_536 ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]) : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(n)]);
  return Buffer.concat([head, payload]);
}

function bigLength(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Client frames off a byte stream: FIN and opcode, 7/16/64-bit lengths, the mask; fragments joined. */
class FrameReader {
  private pending = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  push(d: Buffer): Array<{ opcode: number; payload: Buffer }> {
    this.pending = Buffer.concat([this.pending, d]);
    const out: Array<{ opcode: number; payload: Buffer }> = [];
    for (;;) {
      const p = this.pending;
      if (p.length < 2) break;
      const fin = (p[0]! & 0x80) !== 0;
      const opcode = p[0]! & 0x0f;
      const masked = (p[1]! & 0x80) !== 0;
      let len = p[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (p.length < 4) break;
        len = p.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (p.length < 10) break;
        len = Number(p.readBigUInt64BE(2));
        at = 10;
      }
      const maskAt = at;
      if (masked) at += 4;
      if (p.length < at + len) break;
      const payload = Buffer.from(p.subarray(at, at + len));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= p[maskAt + (i % 4)]!;
      this.pending = p.subarray(at + len);
      if (opcode >= 0x8) out.push({ opcode, payload });
      else if (!fin) {
        if (opcode !== 0) this.fragmentOpcode = opcode;
        this.fragments.push(payload);
      } else if (opcode === 0) {
        out.push({ opcode: this.fragmentOpcode, payload: Buffer.concat([...this.fragments, payload]) });
        this.fragments = [];
      } else out.push({ opcode, payload });
    }
    return out;
  }
}

export function acceptWebSocket(state: SimState, req: IncomingMessage, socket: Duplex, entry: LoggedRequest): void {
  socket.on('error', () => undefined);
  const now = Date.now();
  const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
  const a = state.byAccessToken(bearer, now);
  const key = req.headers['sec-websocket-key'];
  if (entry.path !== WS_PATH || String(req.headers.upgrade).toLowerCase() !== 'websocket' || typeof key !== 'string') return refuse(socket, (entry.status = 400), 'Bad Request');
  if (!a || a.provider !== 'codex') return refuse(socket, (entry.status = 401), 'Unauthorized');
  if (req.headers['chatgpt-account-id'] !== a.accountId) return refuse(socket, (entry.status = 403), 'Forbidden');
  // a backend with WebSockets off for this client answers 426, and the Codex CLI falls back to HTTPS at once
  if (state.codexWebSocketRefusal) return refuse(socket, (entry.status = state.codexWebSocketRefusal), 'Upgrade Required');
  entry.status = 101;
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  const windows = Object.entries(windowHeaders(now)).map(([k, v]) => `${k}: ${v}`);
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, ...windows, '', ''].join('\r\n'));
  const reader = new FrameReader();
  let open = true;
  const sink: EventSink = {
    send: (_type, data) => void socket.write(frame(0x1, Buffer.from(JSON.stringify(data)))),
    closed: () => !open || socket.destroyed,
    end: () => undefined,
  };
  socket.on('data', (d: Buffer) => {
    for (const { opcode, payload } of reader.push(d)) {
      if (opcode === 0x8) {
        open = false;
        return void socket.end(frame(0x8, Buffer.alloc(0)));
      }
      if (opcode === 0x9) socket.write(frame(0xa, payload));
      if (opcode !== 0x1) continue;
      const text = payload.toString('utf8');
      let msg: any = null;
      try {
        msg = JSON.parse(text);
      } catch {
        /* not JSON: echoed below */
      }
      if (msg?.type !== 'response.create') {
        socket.write(frame(0x1, Buffer.from(`echo: ${text}`)));
        continue;
      }
      entry.body = text;
      const { type: _t, ...body } = msg;
      const turn = takeTurn(state, a.accountId, { stream: true, ...body }, text.length);
      if ('refusal' in turn) sink.send('error', { type: 'error', status: 400, error: { type: 'invalid_request_error', message: turn.refusal } });
      else void streamAnswer(sink, body, turn.answer, turn.cached, turn.inputTokens);
    }
  });
  socket.on('end', () => socket.end());
  socket.on('close', () => ((open = false), (entry.closedAt = Date.now())));
}
