/**
 * Every compression codec Kafka has, for kafkajs: it ships only gzip and throws
 * `KafkaJSNotImplemented` on a snappy, lz4 or zstd batch, which ends the consumer. Registered
 * through kafkajs's documented extension point, `CompressionCodecs`, by `createKafka`
 * (`@iot/shared/kafka`); this module does not load kafkajs, so its tests need no permission.
 *
 * - gzip and zstd: the runtime's `node:zlib` (Deno 2.9 has zstd there), zstd behind a check
 *   that the frames are complete ({@link checkZstdFrames}).
 * - snappy: snappyjs inside snappy-java's xerial framing ({@link xerialSnappyDecode}).
 * - lz4: lz4js blocks inside the LZ4 frame format ({@link lz4FrameDecode}).
 *
 * A batch that cannot be decompressed throws {@link KafkaDecompressionError}: kafkajs then
 * retries the fetch with backoff, so the batch is neither skipped nor allowed to end the process.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { lz4FrameDecode, lz4FrameEncode } from "./lz4_frame.ts";
import { xerialSnappyDecode, xerialSnappyEncode } from "./xerial_snappy.ts";
import { checkZstdFrames } from "./zstd_frame.ts";

/** The codec names Kafka uses (`compression.type`), without `none`. */
export type KafkaCodecName = "gzip" | "snappy" | "lz4" | "zstd";

/** A codec as kafkajs calls it: on record-batch bytes, asynchronously. */
export interface KafkaCodec {
  /** Compresses the encoded records (kafkajs passes its Encoder; `buffer` holds the bytes). */
  compress(encoder: { buffer: Uint8Array }): Promise<Buffer>;
  /** Decompresses a batch's records. Throws {@link KafkaDecompressionError}. */
  decompress(buffer: Uint8Array): Promise<Buffer>;
}

/**
 * A record batch whose records cannot be decompressed. `retriable` tells kafkajs to retry the
 * fetch (with backoff) rather than crash the consumer.
 *
 * The codec's error is kept as `reason`, not as `cause`: kafkajs, when its retries run out,
 * wraps the innermost `cause` and would drop this error's type.
 */
export class KafkaDecompressionError extends Error {
  /** Read by kafkajs: retry, do not give up. */
  readonly retriable = true;
  /** What the codec reported. */
  readonly reason: string;

  /**
   * @param codec The batch's codec.
   * @param compressedBytes Size of the compressed records.
   * @param failure What the codec threw.
   */
  constructor(
    readonly codec: KafkaCodecName,
    readonly compressedBytes: number,
    failure: unknown,
  ) {
    const reason = failure instanceof Error
      ? `${failure.name}: ${failure.message}`
      : String(failure);
    super(`Cannot decompress a ${codec} record batch (${compressedBytes} bytes): ${reason}`);
    this.name = "KafkaDecompressionError";
    this.reason = reason;
  }
}

type Bytes = (input: Uint8Array) => Buffer | Promise<Buffer>;

const gunzip = promisify(zlib.unzip);
const gzip = promisify(zlib.gzip);
const zstdDecompress = promisify(zlib.zstdDecompress);
const zstdCompress = promisify(zlib.zstdCompress);

const ALGORITHMS: Record<KafkaCodecName, { compress: Bytes; decompress: Bytes }> = {
  gzip: { compress: (b) => gzip(b), decompress: (b) => gunzip(b) },
  snappy: { compress: xerialSnappyEncode, decompress: xerialSnappyDecode },
  lz4: { compress: lz4FrameEncode, decompress: lz4FrameDecode },
  zstd: {
    compress: (b) => zstdCompress(b),
    decompress: (b) => {
      // node:zlib in Deno returns a truncated frame's partial output without an error.
      checkZstdFrames(b);
      return zstdDecompress(b);
    },
  },
};

/**
 * The codec for `name`, in the shape kafkajs expects.
 *
 * @param name Kafka's codec name.
 * @returns Its compress and decompress functions.
 */
export function kafkaCodec(name: KafkaCodecName): KafkaCodec {
  const algorithm = ALGORITHMS[name];
  return {
    compress: async (encoder) => Buffer.from(await algorithm.compress(encoder.buffer)),
    decompress: async (buffer) => {
      try {
        return await algorithm.decompress(buffer);
      } catch (error) {
        throw new KafkaDecompressionError(name, buffer.length, error);
      }
    },
  };
}

/** Kafka's codec ids (the low 3 bits of a record batch's attributes), as kafkajs numbers them. */
export const KAFKA_CODEC_IDS: Readonly<Record<KafkaCodecName, number>> = Object.freeze({
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
});
