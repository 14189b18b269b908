import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { HmacSha256, sha256 } from "./hmac_sha256.ts";

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("sha256() gives FIPS 180-4's example digests", () => {
  assert.equal(
    hex(sha256(text("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    hex(sha256(text(""))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    hex(sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

Deno.test("HmacSha256 gives RFC 4231's digests (short key, text key, key longer than a block)", () => {
  assert.equal(
    hex(new HmacSha256(new Uint8Array(20).fill(0x0b)).digest("Hi There")),
    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  );
  assert.equal(
    hex(new HmacSha256("Jefe").digest("what do ya want for nothing?")),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
  assert.equal(
    hex(new HmacSha256(new Uint8Array(131).fill(0xaa)).digest(
      "Test Using Larger Than Block-Size Key - Hash Key First",
    )),
    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  );
});

Deno.test("HmacSha256 and sha256() agree with node:crypto at every length around the block edges, for text and bytes, ASCII or not", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const keys = [0, 1, 31, 32, 63, 64, 65, 127, 128, 200].map((n) =>
    Uint8Array.from({ length: n }, () => Math.floor(random() * 256))
  );
  keys.push(text("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
  let checked = 0;
  for (const key of keys) {
    const mac = new HmacSha256(key);
    for (let length = 0; length <= 200; length++) {
      const bytes = Uint8Array.from({ length }, () => Math.floor(random() * 256));
      assert.equal(
        hex(mac.digest(bytes)),
        createHmac("sha256", key).update(bytes).digest("hex"),
        `key of ${key.length} bytes, message of ${length}`,
      );
      const ascii = Array.from(
        { length },
        () => String.fromCharCode(32 + Math.floor(random() * 95)),
      ).join("");
      assert.equal(hex(mac.digest(ascii)), createHmac("sha256", key).update(ascii).digest("hex"));
      checked += 2;
    }
    for (const message of ["é", "a€b", "🙂/0/1", "x".repeat(60) + "ü"]) {
      assert.equal(
        hex(mac.digest(message)),
        createHmac("sha256", key).update(message).digest("hex"),
      );
    }
    assert.equal(hex(sha256(key)), createHash("sha256").update(key).digest("hex"));
  }
  assert.equal(checked, keys.length * 201 * 2);
});

Deno.test("HmacSha256 keeps no state between messages: a short digest after a long one is unchanged", () => {
  const mac = new HmacSha256("k");
  const first = hex(mac.digest("short"));
  mac.digest("y".repeat(1000));
  assert.equal(hex(mac.digest("short")), first);
});
