import assert from "node:assert/strict";
import { metadataRequest, topicIdOf } from "./kafka_topic_id.ts";

const enc = new TextEncoder();
const int16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const int32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const compact = (text: string | null) =>
  text === null ? [0] : [enc.encode(text).length + 1, ...enc.encode(text)];
const ID = "5bdfec01-1a90-4b30-8c2f-7fe3937582ee";
const idBytes = (id: string) => id.replaceAll("-", "").match(/../g)!.map((h) => parseInt(h, 16));

/** A Metadata v12 response (after the correlation id) as Kafka 4.3.1 lays it out. */
function response(topics: { error: number; name: string; id: string }[]): Uint8Array {
  return Uint8Array.from([
    0, // header tagged fields
    ...int32(0), // throttle
    2, // one broker
    ...int32(1),
    ...compact("127.0.0.1"),
    ...int32(9092),
    ...compact(null), // rack
    1, // a tagged field, to be skipped: tag 0, two bytes
    0,
    2,
    0xaa,
    0xbb,
    ...compact("cluster"),
    ...int32(1), // controller
    topics.length + 1,
    ...topics.flatMap((t) => [
      ...int16(t.error),
      ...compact(t.name),
      ...idBytes(t.id),
      0, // is_internal
      2, // one partition
      ...int16(0),
      ...int32(0), // partition
      ...int32(1), // leader
      ...int32(0), // leader epoch
      2,
      ...int32(1), // replicas
      2,
      ...int32(1), // isr
      1, // offline: none
      0,
      ...int32(-2147483648), // authorized operations: not asked
      0,
    ]),
    0,
  ]);
}

Deno.test("metadataRequest() encodes a flexible Metadata v12 request by name, no auto-creation", () => {
  assert.deepEqual(
    [...metadataRequest("iot.sensors")],
    [0, 2, ...new Array(16).fill(0), 12, ...enc.encode("iot.sensors"), 0, 0, 0, 0],
  );
});

Deno.test("topicIdOf() reads the topic's ID out of a Metadata v12 response", () => {
  assert.equal(
    topicIdOf(
      response([{ error: 0, name: "other", id: "f5a04b6c-0ba6-4e82-b31d-045c33d45347" }, {
        error: 0,
        name: "iot.sensors",
        id: ID,
      }]),
      "iot.sensors",
    ),
    ID,
  );
});

Deno.test("topicIdOf() throws on an error, a missing topic, a zero ID or a truncated response", () => {
  const zero = "00000000-0000-0000-0000-000000000000";
  assert.throws(
    () => topicIdOf(response([{ error: 3, name: "t", id: zero }]), "t"),
    { message: "topic t does not exist" },
  );
  assert.throws(
    () => topicIdOf(response([{ error: 29, name: "t", id: zero }]), "t"),
    { message: "topic t may not be described by this client (no DESCRIBE ACL)" },
  );
  assert.throws(
    () => topicIdOf(response([{ error: 0, name: "u", id: ID }]), "t"),
    { message: "Kafka's metadata does not list topic t" },
  );
  assert.throws(
    () => topicIdOf(response([{ error: 0, name: "t", id: zero }]), "t"),
    { message: "Kafka reports no topic ID for t (a broker before 2.8?)" },
  );
  const whole = response([{ error: 0, name: "t", id: ID }]);
  assert.throws(() => topicIdOf(whole.subarray(0, whole.length - 20), "t"), RangeError);
});
