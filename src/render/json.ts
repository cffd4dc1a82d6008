/**
 * `JSON.stringify(items, null, 2) + '\n'`, character for character, in pieces of about `size` characters that
 * end at a line's end: a `status --json` over 10,000 accounts is 7 MB, and made whole it is held three times
 * over (the text, the scrubbed text, the bytes written). `text`: how an element is shown (its JSON by default; the
 * identity for elements that are JSON text already). A piece ends after a newline, and neither a token run
 * nor a URL's userinfo spans one, so scrubbing piece by piece is scrubbing the whole.
 */
export function* jsonArrayPieces<T>(items: readonly T[], size = 1 << 16, text: (item: T) => string | undefined = (x) => JSON.stringify(x, null, 2)): Generator<string> {
  if (!items.length) {
    yield '[]\n';
    return;
  }
  let piece = '[\n';
  for (let i = 0; i < items.length; i++) {
    // an element JSON cannot show (undefined, a function) is null inside an array, as JSON.stringify has it
    const one = text(items[i]!) ?? 'null';
    piece += `  ${one.includes('\n') ? one.replaceAll('\n', '\n  ') : one}${i + 1 < items.length ? ',\n' : '\n]\n'}`;
    if (piece.length >= size) {
      yield piece;
      piece = '';
    }
  }
  if (piece) yield piece;
}
