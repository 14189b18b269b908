/**
 * [integration] A batch the consumer cannot decompress is neither skipped nor fatal: each failed
 * fetch is logged as an error naming the codec, kafkajs retries it, and once the codec works the
 * batch arrives whole. A real broker refuses corrupt batches, so the failure is injected in the
 * codec table (process-wide in kafkajs) after a valid lz4 batch was written with our encoder.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import { createKafka } from "@iot/shared/kafka";
import { createLogger } from "@iot/shared/runtime";
import { compressionsAlgorithms } from "@platformatic/kafka";
import {
  type PartitionBatch,
  type Source,
  type SourceHandler,
  type SourceOptions,
  startSource,
} from "./source.ts";
import { startPlatformaticSource } from "./platformatic_source.ts";
import { eventually } from "../testing/processes.ts";
import { createTopic, startServices, uniqueName } from "../testing/services.ts";

/** One partition read at a time by a group of its own. */
function sourceOptions(topic: string): SourceOptions {
  return {
    topic,
    groupId: `${topic}-group`,
    sessionTimeoutMs: 10_000,
    metadataMaxAgeMs: 30_000,
    fetchMaxBytes: 1_048_576,
    concurrency: 1,
  };
}

/** A handler that keeps every value as text, resolves each batch whole, and keeps crashes. */
function collector(received: string[], crashes: Error[]): SourceHandler {
  return {
    onBatch: (batch: PartitionBatch) => {
      for (const r of batch.records) received.push(new TextDecoder().decode(r.value!));
      batch.resolveOffset(batch.records.at(-1)!.offset);
      return Promise.resolve();
    },
    onAssignment: () => {},
    onCrash: (error) => crashes.push(error),
  };
}

/**
 * A one-partition topic holding one lz4 batch of 50 values, written by kafkajs with our encoder,
 * and a logger that keeps its lines (`onLine` runs after each is kept).
 */
async function lz4Topic(prefix: string, onLine: () => void = () => {}) {
  const { kafkaBrokers } = await startServices();
  const topic = uniqueName(prefix);
  await createTopic(topic, 1);
  const lines: Record<string, unknown>[] = [];
  const log = createLogger("it", {
    level: "info",
    format: "json",
    write: (line: string) => {
      lines.push(JSON.parse(line));
      onLine();
    },
  });
  const kafka = createKafka(kafkaBrokers.split(","), `${prefix}-client`, log);
  const producer = kafka.producer();
  await producer.connect();
  const values = Array.from({ length: 50 }, (_, i) => `event ${i} `.repeat(20));
  await producer.send({
    topic,
    acks: -1,
    compression: CompressionTypes.LZ4,
    messages: values.map((value) => ({ value })),
  });
  await producer.disconnect();
  return { kafkaBrokers, topic, lines, log, kafka, values };
}

Deno.test({
  name:
    "[integration] a batch that fails to decompress is logged, retried and then delivered whole",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { topic, lines, log, kafka, values } = await lz4Topic("it_codec_fail");

    const codecs = CompressionCodecs as Record<number, () => { decompress(b: Buffer): unknown }>;
    const real = codecs[CompressionTypes.LZ4]();
    let failures = 0;
    codecs[CompressionTypes.LZ4] = () => ({
      ...real,
      decompress: (buffer: Buffer) => {
        if (failures < 3) {
          failures++;
          // What the registered codec does with a bad frame: log, then throw.
          return real.decompress(Buffer.from("not an lz4 frame"));
        }
        return real.decompress(buffer);
      },
    });

    const received: string[] = [];
    const crashes: Error[] = [];
    const source = await startSource(
      kafka,
      sourceOptions(topic),
      collector(received, crashes),
      log,
    );
    try {
      await eventually(
        () => Promise.resolve(received.length >= values.length),
        "the batch",
        60_000,
      );
      assert.deepEqual(received, values, "every record once, in order");
      assert.equal(failures, 3);
      const errors = lines.filter((l) => l.level === "error");
      assert.equal(errors.length, 3, JSON.stringify(errors));
      for (const line of errors) {
        assert.equal(
          line.msg,
          "cannot decompress a record batch; nothing is skipped, the fetch is retried",
        );
        assert.equal(line.codec, "lz4");
        assert.match(
          (line.error as { message: string }).message,
          /^Cannot decompress a lz4 record batch \(16 bytes\): SyntaxError: LZ4 frame has magic/,
        );
      }
      assert.deepEqual(crashes, []);
      assert.ok(source.isConnected());
    } finally {
      codecs[CompressionTypes.LZ4] = () => real;
      await source.stop();
    }
  },
});

Deno.test({
  name:
    "[integration] with @platformatic/kafka, a batch that fails to decompress is retried, not skipped, and then delivered whole",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Readiness as each line is written: a failed fetch must leave the member not ready.
    const readyAtLine: (boolean | undefined)[] = [];
    const started: { source?: Source } = {};
    const { kafkaBrokers, topic, lines, log, values } = await lz4Topic(
      "it_codec_fail_plat",
      () => readyAtLine.push(started.source?.isConnected()),
    );

    // The client's codec table is shared by the whole process, as kafkajs's is (typed read-only).
    const lz4 = compressionsAlgorithms.lz4 as { decompressSync(data: Buffer): Buffer };
    const real = lz4.decompressSync;
    // More failures than the client's own tries of one fetch (4), so the loop sees one too.
    const FAILURES = 6;
    let failures = 0;
    lz4.decompressSync = (data: Buffer) => {
      if (failures < FAILURES) {
        failures++;
        throw new Error("injected: LZ4 frame is corrupt");
      }
      return real(data);
    };
    const received: string[] = [];
    const crashes: Error[] = [];
    const source = started.source = await startPlatformaticSource(
      {
        brokers: kafkaBrokers.split(","),
        clientId: "it-codec-fail-plat",
        security: { protocol: "PLAINTEXT" },
      },
      sourceOptions(topic),
      collector(received, crashes),
      log,
    );
    try {
      await eventually(
        () => Promise.resolve(received.length >= values.length),
        "the batch",
        60_000,
      );
      assert.deepEqual(received, values, "every record once, in order");
      assert.equal(failures, FAILURES);
      const failed = lines.flatMap((l, i) =>
        l.msg === "kafka fetch or join failed; retrying" ? [i] : []
      );
      assert.ok(failed.length >= 1, "the loop saw the failed fetch");
      for (const i of failed) {
        assert.match(JSON.stringify(lines[i].error), /injected: LZ4 frame is corrupt/);
        assert.equal(readyAtLine[i], false, "not ready while the fetch fails");
      }
      assert.deepEqual(crashes, []);
      assert.ok(source.isConnected());
    } finally {
      lz4.decompressSync = real;
      await source.stop();
    }
  },
});
