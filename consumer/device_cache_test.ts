import assert from "node:assert/strict";
import { DeviceCache } from "./device_cache.ts";
import { type DeviceSnapshot, NEW_DEVICE } from "./monitoring.ts";

const at = (versao: number): DeviceSnapshot => ({ ...NEW_DEVICE, versao });

Deno.test("DeviceCache drops the least recently used device past its capacity", () => {
  const cache = new DeviceCache(2);
  cache.set("a", at(1));
  cache.set("b", at(1));
  cache.get("a");
  cache.set("c", at(1));
  assert.equal(cache.size, 2);
  assert.equal(cache.get("b"), undefined, "b was used least recently");
  assert.equal(cache.get("a")?.versao, 1);
  assert.equal(cache.get("c")?.versao, 1);
});

Deno.test("DeviceCache keeps the newer version when writes finish out of order", () => {
  const cache = new DeviceCache(4);
  cache.set("a", at(3));
  cache.set("a", at(2));
  assert.equal(cache.get("a")?.versao, 3);
  cache.set("a", at(4));
  assert.equal(cache.get("a")?.versao, 4);
  cache.delete("a");
  assert.equal(cache.get("a"), undefined);
});

Deno.test("DeviceCache of capacity 0 keeps nothing; a negative or fractional capacity is refused", () => {
  const cache = new DeviceCache(0);
  cache.set("a", at(1));
  assert.equal(cache.get("a"), undefined);
  assert.throws(() => new DeviceCache(-1), RangeError);
  assert.throws(() => new DeviceCache(1.5), RangeError);
});
