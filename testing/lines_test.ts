import assert from "node:assert/strict";
import { textLines } from "./lines.ts";

Deno.test("textLines() splits across chunk boundaries and keeps a last unterminated line", async () => {
  const bytes = new TextEncoder().encode("first\nsec\u00e9ond\n\nlast");
  // Chunks cut inside a line and inside the two-byte é.
  const cuts = [0, 3, 10, 11, 15, bytes.length];
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 1; i < cuts.length; i++) controller.enqueue(bytes.slice(cuts[i - 1], cuts[i]));
      controller.close();
    },
  });
  const lines: string[] = [];
  for await (const line of textLines(stream)) lines.push(line);
  assert.deepEqual(lines, ["first", "sec\u00e9ond", "", "last"]);
});
