/**
 * `GET /api/stream`: one client's Server-Sent Events. A client that comes back with
 * `Last-Event-ID` (or `?last_event_id=`, for a first connection that cannot set headers) first
 * gets what was committed between that position and the feed's current one, read exactly
 * (feed_reader.ts), then the feed's batches, which start at that current position: nothing in
 * between is lost and nothing is sent twice. A client too slow to take its events is cut off;
 * it reconnects with its last id and catches up the same way.
 *
 * @module
 */

import type { Logger } from "@iot/shared/runtime";
import type { FeedSource } from "./feed_reader.ts";
import { ParameterError, problemResponse } from "./problem.ts";
import { notAfter, parseSnapshot } from "./snapshot.ts";
import { batchEvents, checkpointEvent, type FeedBatch, formatEvent, type SseEvent } from "./sse.ts";
import type { StreamFilter } from "./sse.ts";
import type { StreamFeed } from "./stream_feed.ts";

/** What a stream needs. */
export interface StreamDeps {
  /** The process's feed. */
  feed: StreamFeed;
  /** Reads a catch-up (the feed's source). */
  read: FeedSource["read"];
  /** `STREAM_HEARTBEAT_S` in ms: a quiet client gets a checkpoint or a comment this often. */
  heartbeatMs: number;
  /** Bytes queued for a client past which it is cut off. */
  maxBufferedBytes: number;
  /** Counts clients and events (metrics). */
  observe: { clients(delta: number): void; events(type: string, n: number): void };
  /** For catch-up failures and slow clients. */
  log: Logger;
}

/** Milliseconds an EventSource waits before reconnecting (the stream's `retry:`). */
export const RECONNECT_MS = 2000;

/**
 * Opens a client's stream.
 *
 * @param lastEventId The client's last position, if it has one.
 * @param signal Aborted when the client goes away.
 * @throws {ParameterError} when `lastEventId` is not a position of this database.
 */
export function openStream(
  deps: StreamDeps,
  filter: StreamFilter,
  lastEventId: string | undefined,
  signal: AbortSignal,
): Response {
  const { feed } = deps;
  const current = feed.position();
  if (current === undefined) {
    return problemResponse(503, `The stream is not ready: ${feed.problem()}`);
  }
  const resumeFrom = lastEventId === undefined ? undefined : checkPosition(lastEventId, current);
  const pending: FeedBatch[] = [];
  let live: ((batch: FeedBatch) => void) | undefined;
  const subscription = feed.subscribe(
    (batch) => live ? live(batch) : pending.push(batch),
    () => close(),
  );
  const at = subscription.at;
  const encoder = new TextEncoder();
  let position = resumeFrom ?? at;
  let lastIdSent = resumeFrom;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const close = () => {
    if (closed) return;
    closed = true;
    subscription.unsubscribe();
    clearInterval(heartbeat);
    signal.removeEventListener("abort", close);
    deps.observe.clients(-1);
    try {
      controller.close();
    } catch {
      // already closed by the client
    }
  };
  const write = (text: string) => {
    if (closed) return;
    controller.enqueue(encoder.encode(text));
    if ((controller.desiredSize ?? 0) < -deps.maxBufferedBytes) {
      deps.log.warn("stream: client too slow; cut off (it resumes with Last-Event-ID)", {
        buffered: -(controller.desiredSize ?? 0),
      });
      close();
    }
  };
  const send = (events: SseEvent[]) => {
    for (const e of events) {
      write(formatEvent(e));
      if (e.id !== undefined) lastIdSent = e.id;
    }
    for (const type of ["reading", "alert"]) {
      const n = events.filter((e) => e.event === type).length;
      if (n > 0) deps.observe.events(type, n);
    }
  };
  const deliver = (batch: FeedBatch) => {
    send(batchEvents(batch, filter));
    position = batch.to;
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      cancel: close,
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
  deps.observe.clients(1);
  signal.addEventListener("abort", close);
  write(`retry: ${RECONNECT_MS}\n\n`);
  (async () => {
    try {
      if (resumeFrom !== undefined && resumeFrom !== at) {
        deliver(await deps.read(resumeFrom, at));
      }
      if (lastIdSent !== position) send([checkpointEvent(position)]);
      for (const batch of pending.splice(0)) deliver(batch);
      live = deliver;
      heartbeat = setInterval(() => {
        if (lastIdSent !== position) send([checkpointEvent(position)]);
        else write(": keep-alive\n\n");
      }, deps.heartbeatMs);
    } catch (error) {
      deps.log.warn("stream: catch-up failed; closing (the client resumes)", { error });
      close();
    }
  })();
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}

function checkPosition(lastEventId: string, current: string): string {
  try {
    const resume = parseSnapshot(lastEventId);
    if (!notAfter(resume, parseSnapshot(current))) {
      throw new ParameterError(
        "Last-Event-ID",
        `Position ${lastEventId} is not one of this database's (it is ahead of ${current}): ` +
          "reconnect without Last-Event-ID",
      );
    }
    return lastEventId;
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new ParameterError("Last-Event-ID", `${error.message}; reconnect without it`);
    }
    throw error;
  }
}
