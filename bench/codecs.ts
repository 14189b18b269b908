/**
 * Decompression throughput of each Kafka codec as the consumer registers them, on record-batch
 * sized inputs of event JSON. Run: `deno run bench/codecs.ts` (prints MB/s of uncompressed output).
 *
 * @module
 */

import { KAFKA_CODEC_IDS, kafkaCodec, type KafkaCodecName } from "../shared/kafka_codecs.ts";
import { SAMPLE_EVENT } from "../testing/payloads.ts";

const BATCH_BYTES = 256 * 1024;
const ROUNDS_BYTES = 64 * 1024 * 1024;

let text = "";
for (let i = 0; text.length < BATCH_BYTES; i++) {
  text += JSON.stringify({
    ...SAMPLE_EVENT,
    ID: crypto.randomUUID(),
    TEMPERATURA: 20 + i % 97 / 10,
  });
}
const input = new TextEncoder().encode(text);
console.log(`codec   ratio  decompress MB/s  (${(input.length / 1024).toFixed(0)} KiB batches)`);
for (const name of Object.keys(KAFKA_CODEC_IDS) as KafkaCodecName[]) {
  const codec = kafkaCodec(name);
  const compressed = await codec.compress({ buffer: input });
  for (let i = 0; i < 20; i++) await codec.decompress(compressed); // warm up
  const rounds = Math.ceil(ROUNDS_BYTES / input.length);
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await codec.decompress(compressed);
  const seconds = (performance.now() - started) / 1000;
  const mbps = (rounds * input.length) / 1e6 / seconds;
  const ratio = input.length / compressed.length;
  console.log(`${name.padEnd(7)} ${ratio.toFixed(1).padStart(5)}  ${mbps.toFixed(0).padStart(15)}`);
}
