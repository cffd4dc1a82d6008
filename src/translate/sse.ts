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
    let end: number;
    // An event ends at a blank line; \r\n and \n both occur in the wild.
    while ((end = this.blankLine()) >= 0) {
      const block = this.buf.slice(0, end);
      this.buf = this.buf.slice(end).replace(/^(\r?\n){2}/, '');
      const e = parseBlock(block);
      if (e) out.push(e);
    }
    return out;
  }

  /** What is left when the stream ends: an event without its blank line still counts. */
  end(): SseEvent[] {
    const rest = this.buf + this.decoder.decode();
    this.buf = '';
    const e = rest.trim() ? parseBlock(rest) : null;
    return e ? [e] : [];
  }

  private blankLine(): number {
    const a = this.buf.indexOf('\n\n');
    const b = this.buf.indexOf('\r\n\r\n');
    return a < 0 ? b : b < 0 ? a : Math.min(a, b);
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
