/**
 * Where the @platformatic/kafka source reads each partition next, and whether a batch it handed
 * out is still current (pure: the clock is passed in).
 *
 * - A group join starts a generation: the assignment changes and every position is read again
 *   from the group's committed offsets (`load`); batches of an older generation are outdated.
 * - A position moves only when the handler resolves an offset of a current batch, or seeks: what
 *   it leaves unresolved is fetched again.
 * - A seek also outdates the partition's batch in hand (its seek count changed).
 * - A paused partition is left out of fetches until its pause ends or the next join.
 *
 * @module
 */

/** What a batch carries to tell whether it is still current. */
export interface BatchToken {
  /** Partition. */
  partition: number;
  /** Generation the batch was fetched in. */
  generation: number;
  /** The partition's seek count when the batch was fetched. */
  seeks: number;
}

/** See the module documentation. */
export class FetchPositions {
  #generation = 0;
  #assigned: number[] = [];
  #loadedFor = -1;
  readonly #next = new Map<number, bigint>();
  readonly #seeks = new Map<number, number>();
  readonly #pausedUntil = new Map<number, number>();

  /** The current generation. */
  get generation(): number {
    return this.#generation;
  }

  /** This member's partitions in the current generation, in order. */
  get assigned(): readonly number[] {
    return this.#assigned;
  }

  /** Whether the positions of the current generation still have to be loaded. */
  needsLoad(): boolean {
    return this.#assigned.length > 0 && this.#loadedFor !== this.#generation;
  }

  /** A new generation with these partitions (none when the member left the group). */
  join(partitions: readonly number[]): void {
    this.#generation++;
    this.#assigned = [...partitions].sort((a, b) => a - b);
    this.#next.clear();
    this.#pausedUntil.clear();
  }

  /**
   * Sets the positions read for `generation`. Ignored (false) when a join came meanwhile: the
   * new generation loads its own.
   */
  load(generation: number, positions: ReadonlyMap<number, bigint>): boolean {
    if (generation !== this.#generation) return false;
    this.#next.clear();
    for (const [partition, offset] of positions) this.#next.set(partition, offset);
    this.#loadedFor = generation;
    return true;
  }

  /** Next offset to fetch of a partition, if loaded. */
  position(partition: number): bigint | undefined {
    return this.#next.get(partition);
  }

  /** The partitions to fetch now: assigned, loaded and not paused. */
  ready(now: number): number[] {
    return this.#assigned.filter((p) =>
      this.#next.has(p) && (this.#pausedUntil.get(p) ?? -Infinity) <= now
    );
  }

  /** When the first pause ends, if a partition is paused at `now`. */
  nextPauseEnd(now: number): number | undefined {
    const ends = this.#assigned.map((p) => this.#pausedUntil.get(p) ?? -Infinity)
      .filter((end) => end > now);
    return ends.length === 0 ? undefined : Math.min(...ends);
  }

  /** The token of a batch of `partition` fetched now. */
  token(partition: number): BatchToken {
    return { partition, generation: this.#generation, seeks: this.#seeks.get(partition) ?? 0 };
  }

  /** Whether a batch is current: same generation, no seek of its partition since. */
  isCurrent(token: BatchToken): boolean {
    return token.generation === this.#generation &&
      token.seeks === (this.#seeks.get(token.partition) ?? 0);
  }

  /** A current batch's records up to `offset` are done: the next fetch starts after it. */
  resolve(token: BatchToken, offset: bigint): boolean {
    if (!this.isCurrent(token)) return false;
    this.#next.set(token.partition, offset + 1n);
    return true;
  }

  /** Reads the partition from `offset` next; outdates its batch in hand. */
  seek(token: BatchToken, offset: bigint): void {
    if (token.generation !== this.#generation) return;
    this.#seeks.set(token.partition, (this.#seeks.get(token.partition) ?? 0) + 1);
    this.#next.set(token.partition, offset);
  }

  /**
   * Moves a position without a batch: past records the pipeline never sees (control records,
   * aborted transactions), or to the log's start after an out-of-range fetch. Only when the
   * position is still `from` and the generation is `generation`.
   */
  advance(generation: number, partition: number, from: bigint, to: bigint): boolean {
    if (generation !== this.#generation || this.#next.get(partition) !== from) return false;
    this.#next.set(partition, to);
    return true;
  }

  /** Leaves the partition out of fetches until `until`. */
  pause(partition: number, until: number): void {
    this.#pausedUntil.set(partition, Math.max(until, this.#pausedUntil.get(partition) ?? 0));
  }
}
