import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  KAFKA_CODEC_IDS,
  kafkaCodec,
  type KafkaCodecName,
  KafkaDecompressionError,
} from "./kafka_codecs.ts";
import vectors from "./testdata/kafka_codec_vectors.json" with { type: "json" };

const CODECS = Object.keys(KAFKA_CODEC_IDS) as KafkaCodecName[];

/** The input of testdata/KafkaCodecVectors.java: JSON lines up to 140,000 characters. */
function javaInput(): Uint8Array {
  let text = "";
  for (let i = 0; text.length < 140_000; i++) text += `{"i":${i % 50},"t":${i % 10}}\n`;
  return new TextEncoder().encode(text);
}

/** Bytes that compress poorly, so every codec writes several chunks or blocks. */
function noise(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 3 === 0 ? x >>> 24 : 0x61 + (i % 7);
  }
  return out;
}

Deno.test("kafkaCodec() decodes what Kafka's Java classes wrote (known answers)", async (t) => {
  const expected = javaInput();
  for (const name of CODECS) {
    await t.step(name, async () => {
      const compressed = Buffer.from((vectors as Record<string, string>)[name], "base64");
      const out = await kafkaCodec(name).decompress(compressed);
      assert.ok(Buffer.isBuffer(out), "kafkajs's decoder needs a Buffer");
      assert.equal(out.length, expected.length);
      assert.ok(Buffer.from(expected).equals(out));
    });
  }
});

Deno.test("kafkaCodec() round-trips empty, small and multi-chunk inputs", async (t) => {
  const inputs = [new Uint8Array(), new TextEncoder().encode("hello"), noise(300_000)];
  for (const name of CODECS) {
    await t.step(name, async () => {
      const codec = kafkaCodec(name);
      for (const input of inputs) {
        const compressed = await codec.compress({ buffer: input });
        const out = await codec.decompress(compressed);
        assert.ok(Buffer.from(input).equals(out), `${name}, ${input.length} bytes`);
      }
    });
  }
});

Deno.test("kafkaCodec() rejects truncated and corrupt input with KafkaDecompressionError", async (t) => {
  const input = noise(200_000);
  for (const name of CODECS) {
    await t.step(name, async () => {
      const codec = kafkaCodec(name);
      const good = await codec.compress({ buffer: input });
      const truncated = good.subarray(0, good.length - 9);
      const error = await codec.decompress(truncated).then(
        () => assert.fail("a truncated batch decoded"),
        (e) => e,
      );
      assert.ok(error instanceof KafkaDecompressionError, String(error));
      assert.equal(error.name, "KafkaDecompressionError");
      assert.equal(error.codec, name);
      assert.equal(error.compressedBytes, truncated.length);
      assert.equal(error.retriable, true, "kafkajs must retry, not crash");
      assert.match(
        error.message,
        new RegExp(`^Cannot decompress a ${name} record batch \\(${truncated.length} bytes\\): .+`),
      );
      await assert.rejects(
        codec.decompress(Buffer.from("not compressed at all")),
        KafkaDecompressionError,
      );
    });
  }
});
