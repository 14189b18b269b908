import assert from "node:assert/strict";
import { FetchPositions } from "./fetch_positions.ts";

/** Positions after a join of `partitions`, loaded at `offsets`. */
function joined(partitions: number[], offsets: bigint[]): FetchPositions {
  const positions = new FetchPositions();
  positions.join(partitions);
  assert.equal(positions.needsLoad(), true);
  positions.load(positions.generation, new Map(partitions.map((p, i) => [p, offsets[i]])));
  assert.equal(positions.needsLoad(), false);
  return positions;
}

Deno.test("FetchPositions: nothing is fetched before the join's positions are loaded", () => {
  const positions = new FetchPositions();
  assert.equal(positions.needsLoad(), false); // nothing assigned
  positions.join([2, 0]);
  assert.deepEqual(positions.assigned, [0, 2]);
  assert.deepEqual(positions.ready(0), []);
  positions.load(positions.generation, new Map([[0, 5n], [2, 9n]]));
  assert.deepEqual(positions.ready(0), [0, 2]);
  assert.equal(positions.position(2), 9n);
});

Deno.test("FetchPositions: positions loaded for an older generation are dropped", () => {
  const positions = new FetchPositions();
  positions.join([0]);
  const first = positions.generation;
  positions.join([0, 1]); // another join while the first generation's offsets were read
  assert.equal(positions.load(first, new Map([[0, 5n]])), false);
  assert.equal(positions.needsLoad(), true);
  assert.deepEqual(positions.ready(0), []);
});

Deno.test("FetchPositions: resolving moves the position; unresolved records come again", () => {
  const positions = joined([0], [10n]);
  const token = positions.token(0);
  assert.equal(positions.resolve(token, 14n), true);
  assert.equal(positions.position(0), 15n);
  // A batch that resolves nothing leaves the position where the next fetch reads it again.
  positions.token(0);
  assert.equal(positions.position(0), 15n);
});

Deno.test("FetchPositions: a seek outdates the batch in hand, whose resolve is then ignored", () => {
  const positions = joined([0, 1], [10n, 20n]);
  const token = positions.token(0);
  const other = positions.token(1);
  positions.seek(token, 3n);
  assert.equal(positions.isCurrent(token), false);
  assert.equal(positions.isCurrent(other), true);
  assert.equal(positions.resolve(token, 14n), false);
  assert.equal(positions.position(0), 3n);
  assert.equal(positions.isCurrent(positions.token(0)), true);
});

Deno.test("FetchPositions: a join outdates every batch and clears positions and pauses", () => {
  const positions = joined([0, 1], [10n, 20n]);
  const token = positions.token(1);
  positions.pause(0, 1_000);
  positions.join([1]);
  assert.equal(positions.isCurrent(token), false);
  assert.equal(positions.resolve(token, 25n), false);
  positions.seek(token, 0n); // an outdated batch cannot seek either
  assert.equal(positions.position(1), undefined);
  positions.load(positions.generation, new Map([[1, 22n]]));
  assert.deepEqual(positions.ready(0), [1]);
  assert.equal(positions.position(1), 22n);
});

Deno.test("FetchPositions: a paused partition is left out until its pause ends", () => {
  const positions = joined([0, 1], [0n, 0n]);
  positions.pause(1, 500);
  positions.pause(1, 200); // a shorter pause does not cut the longer one short
  assert.deepEqual(positions.ready(100), [0]);
  assert.equal(positions.nextPauseEnd(100), 500);
  assert.deepEqual(positions.ready(500), [0, 1]);
  assert.equal(positions.nextPauseEnd(500), undefined);
});

Deno.test("FetchPositions: advance moves a position only from where it stands, in its generation", () => {
  const positions = joined([0], [10n]);
  const generation = positions.generation;
  assert.equal(positions.advance(generation, 0, 9n, 0n), false); // not where it stands
  assert.equal(positions.advance(generation + 1, 0, 10n, 0n), false); // another generation
  assert.equal(positions.position(0), 10n);
  assert.equal(positions.advance(generation, 0, 10n, 12n), true);
  assert.equal(positions.position(0), 12n);
});
