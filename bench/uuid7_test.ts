import assert from "node:assert/strict";
import { UUID_PATTERN } from "@iot/shared";
import { uuidV7 } from "./uuid7.ts";

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("uuidV7() carries the instant in its first 48 bits, version 7, variant 10", () => {
  const ms = Date.UTC(2026, 11, 4, 22, 40, 0, 123);
  const id = uuidV7(ms);
  assert.match(id, V7);
  assert.match(id, new RegExp(UUID_PATTERN));
  assert.equal(parseInt(id.slice(0, 8) + id.slice(9, 13), 16), ms);
});

Deno.test("uuidV7() of later instants sorts after earlier ones; same instant, distinct ids", () => {
  const ids = [0, 1, 255, 256, 65_536, 2 ** 40, 2 ** 48 - 1].map(uuidV7);
  assert.deepEqual([...ids].sort(), ids);
  assert.notEqual(uuidV7(1000), uuidV7(1000));
});

Deno.test("uuidV7() refuses instants it cannot hold", () => {
  for (const bad of [-1, 2 ** 48, 1.5, NaN]) assert.throws(() => uuidV7(bad), RangeError);
});
