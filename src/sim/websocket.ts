import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LoggedRequest } from './server.js';
import type { SimState } from './state.js';

/**
 * The Codex responses endpoint over WebSocket (the Codex CLI tries it before HTTPS): the handshake checks the
 * account's token and account id like every codex endpoint, answers 101 with the rate-limit headers, then
 * echoes each short text message. Enough to see a tunnel carry frames both ways; not the Responses protocol.
 */
export const WS_PATH = '/backend-api/codex/responses';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ detail: reason });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
}

/** One unmasked text frame (server to client), for payloads under 126 bytes. */
const textFrame = (payload: Buffer) => Buffer.concat([Buffer.from([0x81, payload.length]), payload]);

export function acceptWebSocket(state: SimState, req: IncomingMessage, socket: Duplex, entry: LoggedRequest): void {
  socket.on('error', () => undefined);
  const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
  const a = state.byAccessToken(bearer, Date.now());
  const key = req.headers['sec-websocket-key'];
  if (entry.path !== WS_PATH || String(req.headers.upgrade).toLowerCase() !== 'websocket' || typeof key !== 'string') return refuse(socket, (entry.status = 400), 'Bad Request');
  if (!a || a.provider !== 'codex') return refuse(socket, (entry.status = 401), 'Unauthorized');
  if (req.headers['chatgpt-account-id'] !== a.accountId) return refuse(socket, (entry.status = 403), 'Forbidden');
  // a backend with WebSockets off for this client answers 426, and the Codex CLI falls back to HTTPS at once
  if (state.codexWebSocketRefusal) return refuse(socket, (entry.status = state.codexWebSocketRefusal), 'Upgrade Required');
  entry.status = 101;
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(
    ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, 'x-codex-primary-used-percent: 7', 'x-codex-primary-window-minutes: 300', '', ''].join('\r\n'),
  );
  let pending = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    // Client frames are masked: opcode, length (< 126 here), a 4-byte mask, the payload.
    while (pending.length >= 6 && pending.length >= 6 + (pending[1]! & 0x7f)) {
      const opcode = pending[0]! & 0x0f;
      const len = pending[1]! & 0x7f;
      const mask = pending.subarray(2, 6);
      const payload = Buffer.from(pending.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4]!));
      pending = pending.subarray(6 + len);
      if (opcode === 0x8) return void socket.end(Buffer.from([0x88, 0]));
      if (opcode === 0x1) socket.write(textFrame(Buffer.from(`echo: ${payload.toString('utf8')}`)));
    }
  });
  socket.on('close', () => (entry.closedAt = Date.now()));
}
