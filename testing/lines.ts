/**
 * Reading a child process's output line by line.
 *
 * @module
 */

/** Yields each line of a byte stream as text, without its newline; a last unterminated line too. */
export async function* textLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let newline: number;
    while ((newline = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, newline);
      rest = rest.slice(newline + 1);
    }
  }
  if (rest !== "") yield rest;
}
