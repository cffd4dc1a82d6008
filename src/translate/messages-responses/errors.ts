/**
 * An answer of the backend that is not a stream (a 400 about the request, a 404 model, a 403), in Anthropic's
 * error shape, so the client shows what the backend said. Pure.
 */
const TYPES: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 413: 'request_too_large', 429: 'rate_limit_error', 529: 'overloaded_error' };

export function errorToMessages(status: number, text: string): { type: 'error'; error: { type: string; message: string } } {
  let detail = text.trim().slice(0, 500);
  try {
    const d = JSON.parse(text);
    detail = String(d.detail ?? d.error?.message ?? d.error?.type ?? d.message ?? detail);
  } catch {
    /* not JSON: the text itself */
  }
  return { type: 'error', error: { type: TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message: `the ChatGPT backend answered ${status}: ${detail || 'no detail'}` } };
}
