import assert from "node:assert/strict";
import { endedBefore, formatSnapshot, notAfter, parseSnapshot } from "./snapshot.ts";

Deno.test("parseSnapshot() reads PostgreSQL's text form and formatSnapshot() writes it back", () => {
  for (const text of ["746:746:", "10:14:10,12", "3:9:5"]) {
    assert.equal(formatSnapshot(parseSnapshot(text)), text);
  }
});

Deno.test("parseSnapshot() refuses what PostgreSQL could not have written", () => {
  for (
    const text of [
      "",
      "garbage",
      "1:2",
      "5:4:",
      "10:14:12,10",
      "10:14:9",
      "10:14:14",
      "0:1:",
      "1:2:x",
      `1:2:${"1,".repeat(3000)}`,
    ]
  ) {
    assert.throws(() => parseSnapshot(text), SyntaxError, text.slice(0, 20));
  }
});

Deno.test("endedBefore() is pg_visible_in_snapshot for a committed transaction", () => {
  const s = parseSnapshot("10:14:10,12");
  assert.deepEqual([9n, 10n, 11n, 12n, 13n, 14n].map((x) => endedBefore(x, s)), [
    true,
    false,
    true,
    false,
    true,
    false,
  ]);
});

Deno.test("notAfter() accepts an earlier or equal position and refuses a later or foreign one", () => {
  const s = (t: string) => parseSnapshot(t);
  assert.ok(notAfter(s("10:14:10,12"), s("10:14:10,12")));
  assert.ok(notAfter(s("10:14:10,12"), s("12:20:12,15")));
  assert.ok(!notAfter(s("12:20:12,15"), s("10:14:10,12")), "later");
  assert.ok(!notAfter(s("999:999:"), s("10:14:10,12")), "from another database");
  // 11 ended before the first, yet is in progress in the second: not a real pair.
  assert.ok(!notAfter(s("10:14:10"), s("11:16:11")));
});
