/**
 * Server-Sent Events frames of the live stream (pure). A batch of changes becomes one `reading`
 * event per device (the newest reading it stored in the batch, with how many it stands for) and
 * one `alert` event per alert changed (its state after the batch); only the batch's last event
 * carries an `id`, the stream position after the whole batch. A client cut off in the middle of
 * a batch therefore resumes from the batch's start: it may see some events twice, never miss one.
 *
 * @module
 */

/** The changes committed between two stream positions. */
export interface FeedBatch {
  /** The position before. */
  from: string;
  /** The position after: the id of the batch's last event. */
  to: string;
  /** Per device, its newest reading of the batch (`sampled_from`: readings it stands for). */
  readings: readonly Record<string, unknown>[];
  /** Every alert changed in the batch, as it is after it. */
  alerts: readonly Record<string, unknown>[];
}

/** One SSE frame. */
export interface SseEvent {
  /** `reading`, `alert` or `checkpoint`. */
  event: string;
  /** The JSON data. */
  data: unknown;
  /** The stream position, on the last event of a batch. */
  id?: string;
}

/**
 * An event's text on the wire. JSON never holds a raw line break, so `data` is one line.
 *
 * @example
 * ```ts
 * import { formatEvent } from "./sse.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatEvent({ event: "checkpoint", data: {}, id: "5:5:" }),
 *   "event: checkpoint\nid: 5:5:\ndata: {}\n\n");
 * ```
 */
export function formatEvent(e: SseEvent): string {
  const id = e.id === undefined ? "" : `id: ${e.id}\n`;
  return `event: ${e.event}\n${id}data: ${JSON.stringify(e.data)}\n\n`;
}

/** Which events a client asked for (`device`: one device only). */
export interface StreamFilter {
  device?: string;
}

/**
 * A batch's events for one client: readings by device id, then alerts by id, the last one
 * carrying the batch's end position. No event for the client: none at all (see
 * {@linkcode checkpointEvent}).
 */
export function batchEvents(batch: FeedBatch, filter: StreamFilter): SseEvent[] {
  const keep = (row: Record<string, unknown>) =>
    filter.device === undefined || row.device === filter.device;
  const events: SseEvent[] = [
    ...batch.readings.filter(keep).map((data) => ({ event: "reading", data })),
    ...batch.alerts.filter(keep).map((data) => ({ event: "alert", data })),
  ];
  if (events.length > 0) events[events.length - 1].id = batch.to;
  return events;
}

/** The event that moves a quiet client's position on (so a reconnect has little to read). */
export function checkpointEvent(position: string): SseEvent {
  return { event: "checkpoint", data: { position }, id: position };
}
