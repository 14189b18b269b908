import assert from "node:assert/strict";
import {
  byLeader,
  type FetchedBatch,
  nextOffsetAfter,
  OFFSET_OUT_OF_RANGE,
  outOfRangePartitions,
  recordsFrom,
  responseOf,
} from "./fetch_response.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** A batch of `count` records from `firstOffset`, 10 ms apart from `firstTimestamp`. */
function batch(
  firstOffset: bigint,
  count: number,
  extra: Partial<FetchedBatch> = {},
): FetchedBatch {
  return {
    firstOffset,
    lastOffsetDelta: count - 1,
    attributes: 0,
    firstTimestamp: 1_000n,
    maxTimestamp: 1_000n + BigInt(10 * (count - 1)),
    producerId: 7n,
    records: Array.from({ length: count }, (_, i) => ({
      offsetDelta: i,
      timestampDelta: BigInt(10 * i),
      key: bytes(`k${i}`),
      value: bytes(`v${Number(firstOffset) + i}`),
    })),
    ...extra,
  };
}

const offsets = (
  batches: FetchedBatch[],
  from: bigint,
  aborted: Parameters<typeof recordsFrom>[2] = null,
) => recordsFrom(batches, from, aborted).map((r) => r.offset);

Deno.test("recordsFrom() gives offsets, keys, values and CreateTime timestamps in order", () => {
  const records = recordsFrom([batch(5n, 2), batch(7n, 1)], 5n, null);
  assert.deepEqual(records.map((r) => [r.offset, r.timestampMs]), [
    ["5", 1_000],
    ["6", 1_010],
    ["7", 1_000],
  ]);
  assert.deepEqual(new TextDecoder().decode(records[2].value!), "v7");
  assert.deepEqual(new TextDecoder().decode(records[1].key!), "k1");
});

Deno.test("recordsFrom() drops the records of a whole batch that come before the fetch offset", () => {
  assert.deepEqual(offsets([batch(10n, 5)], 13n), ["13", "14"]);
});

Deno.test("recordsFrom() takes LogAppendTime batches' timestamp from the batch", () => {
  const appended = batch(0n, 2, { attributes: 1 << 3, maxTimestamp: 99_000n });
  assert.deepEqual(recordsFrom([appended], 0n, null).map((r) => r.timestampMs), [99_000, 99_000]);
});

Deno.test("recordsFrom() skips control batches and an aborted transaction's records", () => {
  const TRANSACTIONAL = 1 << 4;
  const CONTROL = 1 << 5;
  const batches = [
    batch(0n, 2), // not transactional
    batch(2n, 2, { attributes: TRANSACTIONAL, producerId: 9n }), // aborted below
    batch(4n, 1, { attributes: TRANSACTIONAL, producerId: 8n }), // committed
    batch(5n, 1, { attributes: TRANSACTIONAL | CONTROL, producerId: 9n }), // abort marker
    batch(6n, 1, { attributes: TRANSACTIONAL | CONTROL, producerId: 8n }), // commit marker
    batch(7n, 1, { attributes: TRANSACTIONAL, producerId: 9n }), // a later transaction of 9
  ];
  assert.deepEqual(offsets(batches, 0n, [{ producerId: 9n, firstOffset: 2n }]), [
    "0",
    "1",
    "4",
    "7",
  ]);
  // Without the aborted list (read-uncommitted), only the markers go.
  assert.deepEqual(offsets(batches, 0n), ["0", "1", "2", "3", "4", "7"]);
});

Deno.test("nextOffsetAfter() is past the last batch, and never before the fetch offset", () => {
  assert.equal(nextOffsetAfter([batch(3n, 2), batch(5n, 3)], 3n), 8n);
  assert.equal(nextOffsetAfter([], 42n), 42n);
  assert.equal(nextOffsetAfter([batch(3n, 2)], 9n), 9n);
});

Deno.test("responseOf() finds the response in an error or in the last of its retries", () => {
  const response = {
    responses: [{ partitions: [{ partitionIndex: 2, errorCode: OFFSET_OUT_OF_RANGE }] }],
  };
  const older = { responses: [{ partitions: [{ partitionIndex: 2, errorCode: 6 }] }] };
  assert.equal(responseOf({ response }), response);
  assert.equal(
    responseOf({ errors: [{ response: older }, new Error("socket"), { response }] }),
    response,
  );
  assert.equal(responseOf({ errors: [{ errors: [{ response }] }] }), response);
  assert.equal(responseOf(new Error("Cannot connect to any broker.")), undefined);
  assert.equal(responseOf("text"), undefined);
  assert.deepEqual(outOfRangePartitions(response), [2]);
  assert.deepEqual(outOfRangePartitions(older), []);
});

Deno.test("byLeader() groups partitions by their leader, in order", () => {
  const leaders = [1, 2, 1, -1];
  assert.deepEqual(
    [...byLeader([0, 1, 2, 3], (p) => leaders[p])],
    [[1, [0, 2]], [2, [1]], [-1, [3]]],
  );
});
