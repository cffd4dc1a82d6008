/**
 * Server-sent events, both ways: an incremental parser (chunks may split an event, a line or a UTF-8
 * character anywhere) and the frame writer. Pure: no I/O.
 */
export interface SseEvent {
  event: string;
  data: string;
}

export class SseParser {
  private buf = '';
  private readonly decoder = new TextDecoder();

  /** The events completed by this chunk. */
  push(chunk: Uint8Array | string): SseEvent[] {
    this.buf += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    const out: SseEvent[] = [];
    // An event ends at a blank line (\n\n, or \r\n\r\n in the wild); the buffer is cut once per chunk.
    let from = 0;
    for (;;) {
      const lf = this.buf.indexOf('\n\n', from);
      const crlf = this.buf.indexOf('\r\n\r\n', from);
      const end = lf < 0 ? crlf : crlf < 0 ? lf : Math.min(lf, crlf);
      if (end < 0) break;
      const e = parseBlock(this.buf.slice(from, end));
      if (e) out.push(e);
      from = end + (end === crlf ? 4 : 2);
    }
    if (from) this.buf = this.buf.slice(from);
    return out;
  }

  /** What is left when the stream ends: an event without its blank line still counts. */
  end(): SseEvent[] {
    const rest = this.buf + this.decoder.decode();
    this.buf = '';
    const e = rest.trim() ? parseBlock(rest) : null;
    return e ? [e] : [];
  }
}

function parseBlock(block: string): SseEvent | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length ? { event, data: data.join('\n') } : null;
}

/** One event as it goes on the wire: `event:` + `data:` JSON, then a blank line. */
export const sseFrame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
