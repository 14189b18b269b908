/**
 * A topic's ID: the UUID Kafka gives each topic when it is created (KIP-516). A topic deleted
 * and created again under the same name gets a new one, which is how the consumer tells the new
 * log from the old one whose offsets PostgreSQL keeps.
 *
 * kafkajs 2.2.4 speaks Metadata up to version 6, and topic IDs arrive from version 10 on
 * (`admin.fetchTopicMetadata` returns none: measured against Kafka 4.3.1). So one Metadata v12
 * request is encoded here and sent over a connection kafkajs opens, authenticates and closes with
 * the client's own settings (TLS, SASL). That uses two kafkajs internals, pinned by deno.lock:
 * the client's private cluster factory and a broker's `connectionPool.send`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Kafka } from "kafkajs";

/** Kafka's API key of Metadata. */
const METADATA_API_KEY = 3;
/** The version encoded here: flexible (KIP-482), with topic IDs, without cluster operations. */
const METADATA_VERSION = 12;

/**
 * The body of a Metadata v12 request for one topic, preceded by the request header's empty
 * tagged fields: kafkajs writes header version 1 (api key, version, correlation id, client id),
 * and a flexible request's header version 2 is exactly that plus the tagged fields.
 *
 * @param topic Topic name.
 */
export function metadataRequest(topic: string): Uint8Array {
  const name = new TextEncoder().encode(topic);
  return Uint8Array.from([
    0, // header: no tagged fields
    ...unsignedVarint(2), // topics: a compact array of one
    ...new Uint8Array(16), // topic_id: zero (ask by name)
    ...unsignedVarint(name.length + 1),
    ...name,
    0, // topic: no tagged fields
    0, // allow_auto_topic_creation: false
    0, // include_topic_authorized_operations: false
    0, // body: no tagged fields
  ]);
}

/** Kafka error codes a topic's metadata may carry, in words. */
const TOPIC_ERRORS: Record<number, string> = {
  3: "does not exist",
  5: "has no leader yet",
  29: "may not be described by this client (no DESCRIBE ACL)",
};

/**
 * The topic ID in a Metadata v12 response (what follows the correlation id).
 *
 * @param response The response bytes after the correlation id.
 * @param topic The topic asked for.
 * @returns The topic ID as a lower-case UUID.
 * @throws {Error} when the broker reports an error for the topic or omits it.
 */
export function topicIdOf(response: Uint8Array, topic: string): string {
  const r = new Reader(response);
  r.skipTags(); // response header
  r.int32(); // throttle_time_ms
  r.array(() => {
    r.int32(); // node_id
    r.compactString(); // host
    r.int32(); // port
    r.compactString(); // rack
    r.skipTags();
  });
  r.compactString(); // cluster_id
  r.int32(); // controller_id
  const topics = r.array(() => {
    const errorCode = r.int16();
    const name = r.compactString();
    const id = r.uuid();
    r.bytes(1); // is_internal
    r.array(() => {
      r.bytes(2 + 4 + 4 + 4); // error_code, partition_index, leader_id, leader_epoch
      for (let i = 0; i < 3; i++) r.array(() => r.int32()); // replicas, isr, offline
      r.skipTags();
    });
    r.int32(); // topic_authorized_operations
    r.skipTags();
    return { errorCode, name, id };
  });
  const found = topics.find((t) => t.name === topic);
  if (found === undefined) throw new Error(`Kafka's metadata does not list topic ${topic}`);
  if (found.errorCode !== 0) {
    const what = TOPIC_ERRORS[found.errorCode] ?? `error code ${found.errorCode}`;
    throw new Error(`topic ${topic} ${what}`);
  }
  if (/^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(found.id)) {
    throw new Error(`Kafka reports no topic ID for ${topic} (a broker before 2.8?)`);
  }
  return found.id;
}

/**
 * Asks Kafka for a topic's ID over a connection of its own, with `kafka`'s settings.
 *
 * @param kafka A kafkajs 2.2.4 client.
 * @param topic Topic name.
 * @returns The topic ID as a lower-case UUID.
 */
export async function fetchTopicId(kafka: Kafka, topic: string): Promise<string> {
  const cluster = privateCluster(kafka);
  await cluster.connect();
  try {
    return await askOver(cluster, topic);
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}

/**
 * Asks topic IDs over one connection kept open between questions, for a caller that asks often
 * (the consumer, once per fetch). After any failure the connection is dropped and the question
 * asked once more over a new one made from `kafka()`, so a rotated password is used from the next
 * connection on (an authenticated connection stays valid).
 */
export class TopicIdClient {
  readonly #kafka: () => Kafka;
  #cluster: Promise<PrivateCluster> | undefined;

  /** @param kafka Makes a kafkajs 2.2.4 client with the current settings. */
  constructor(kafka: () => Kafka) {
    this.#kafka = kafka;
  }

  /**
   * Kafka's ID of `topic` now.
   *
   * @param topic Topic name.
   * @returns The topic ID as a lower-case UUID.
   */
  async topicId(topic: string): Promise<string> {
    for (let attempt = 0;; attempt++) {
      try {
        return await askOver(await this.#connected(), topic);
      } catch (error) {
        await this.close();
        if (attempt > 0) throw error;
      }
    }
  }

  /** Closes the kept connection, if any. */
  async close(): Promise<void> {
    const cluster = this.#cluster;
    this.#cluster = undefined;
    await cluster?.then((c) => c.disconnect()).catch(() => {});
  }

  #connected(): Promise<PrivateCluster> {
    this.#cluster ??= (async () => {
      const cluster = privateCluster(this.#kafka());
      await cluster.connect();
      return cluster;
    })();
    return this.#cluster;
  }
}

/** One Metadata v12 question over `cluster`'s seed broker. */
function askOver(cluster: PrivateCluster, topic: string): Promise<string> {
  const body = Buffer.from(metadataRequest(topic));
  return cluster.brokerPool.seedBroker.connectionPool.send({
    request: {
      apiKey: METADATA_API_KEY,
      apiVersion: METADATA_VERSION,
      apiName: "Metadata",
      // kafkajs accepts any object with the bytes as `buf` and `buffer` (its Encoder's shape).
      encode: () => Promise.resolve({ buf: body, buffer: body }),
    },
    response: {
      decode: (payload: Buffer) => Promise.resolve(topicIdOf(payload, topic)),
      parse: (id: string) => Promise.resolve(id),
    },
  });
}

/** The parts of kafkajs's internal cluster used here. */
interface PrivateCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  brokerPool: {
    seedBroker: {
      connectionPool: {
        send(request: {
          request: unknown;
          response: {
            decode(payload: Buffer): Promise<string>;
            parse(id: string): Promise<string>;
          };
        }): Promise<string>;
      };
    };
  };
}

function privateCluster(kafka: Kafka): PrivateCluster {
  const symbol = Object.getOwnPropertySymbols(kafka)
    .find((s) => s.description === "private:Kafka:createCluster");
  const create = symbol === undefined
    ? undefined
    : (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== "function") {
    throw new Error(
      "this kafkajs has no private cluster factory: fetchTopicId needs kafkajs 2.2.x",
    );
  }
  return create({}) as PrivateCluster;
}

function unsignedVarint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  out.push(value);
  return out;
}

/** Reads Kafka's flexible-version encoding. */
class Reader {
  #at = 0;
  readonly #view: DataView;

  readonly #data: Uint8Array;

  constructor(data: Uint8Array) {
    this.#data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  bytes(n: number): Uint8Array {
    if (this.#at + n > this.#data.length) throw new RangeError("Metadata response is truncated");
    const out = this.#data.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }

  int16(): number {
    this.bytes(2);
    return this.#view.getInt16(this.#at - 2);
  }

  int32(): number {
    this.bytes(4);
    return this.#view.getInt32(this.#at - 4);
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.bytes(1)[0];
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new RangeError("Metadata response has a malformed varint");
  }

  compactString(): string | null {
    const length = this.varint();
    return length === 0 ? null : new TextDecoder().decode(this.bytes(length - 1));
  }

  uuid(): string {
    const hex = Array.from(this.bytes(16), (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
      hex.slice(20)
    }`;
  }

  array<T>(item: () => T): T[] {
    const length = this.varint();
    return Array.from({ length: Math.max(0, length - 1) }, item);
  }

  skipTags(): void {
    for (let n = this.varint(); n > 0; n--) {
      this.varint(); // tag
      this.bytes(this.varint());
    }
  }
}
