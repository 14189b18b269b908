import assert from "node:assert/strict";
import {
  decideOffline,
  type DeviceSilence,
  offlineLimitS,
  type OfflineSettings,
  offlineWatermark,
} from "./offline.ts";

const SETTINGS: OfflineSettings = { checkIntervalS: 10, factor: 3, minS: 30, maxS: 3600 };
const NOW = Date.parse("2026-12-04T12:00:00Z");
const S = 1000;

/** A device last seen `silentS` before NOW (event and load time alike), reporting every 5 s. */
function device(id: string, silentS: number, more: Partial<DeviceSilence> = {}): DeviceSilence {
  return {
    id,
    lastEventMs: NOW - silentS * S,
    lastLoadMs: NOW - silentS * S,
    intervalS: 5,
    open: null,
    ...more,
  };
}

Deno.test("offlineLimitS clamps the interval to [OFFLINE_MIN_S, OFFLINE_MAX_S] before the factor", () => {
  assert.equal(offlineLimitS(5, SETTINGS), 90); // 5 s counts as 30 s
  assert.equal(offlineLimitS(30, SETTINGS), 90);
  assert.equal(offlineLimitS(31, SETTINGS), 93);
  assert.equal(offlineLimitS(3600, SETTINGS), 10_800);
  assert.equal(offlineLimitS(86_400, SETTINGS), 10_800);
});

Deno.test("offlineLimitS counts an unknown interval (a device seen once) as OFFLINE_MAX_S", () => {
  assert.equal(offlineLimitS(null, SETTINGS), 10_800);
  assert.equal(offlineLimitS(null, { ...SETTINGS, maxS: 60 }), 180);
});

Deno.test("a device silent for just the limit is online; a millisecond more, offline", () => {
  const [onTheLimit, past] = [device("a", 90), device("b", 90.001)];
  // A third device reporting now sets the watermark to NOW.
  const actions = decideOffline([onTheLimit, past, device("c", 0)], NOW, SETTINGS);
  assert.deepEqual(actions.map((a) => a.id), ["b"]);
  assert.deepEqual(actions[0], {
    id: "b",
    kind: "open",
    limitS: 90,
    openedAtMs: NOW - 90.001 * S + 90 * S,
    lastTriggeredMs: NOW,
    peakS: 90.001,
    triggerCount: 1,
  });
});

Deno.test("the watermark is the newest event time, held back by a backlog, never past now", () => {
  assert.equal(offlineWatermark([], NOW), null);
  assert.equal(offlineWatermark([device("a", 0, { lastEventMs: null })], NOW), null);
  assert.equal(offlineWatermark([device("a", 500), device("b", 400)], NOW), NOW - 400 * S);
  // A device whose clock runs an hour ahead does not move the fleet's progress past now.
  assert.equal(offlineWatermark([device("a", 500), device("b", -3600)], NOW), NOW);
});

Deno.test("a backlog: every reading an hour old but loaded just now, nobody is offline", () => {
  const backlog = ["a", "b", "c"].map((id, i) => device(id, 3600 + i, { lastLoadMs: NOW - 1 * S }));
  assert.deepEqual(decideOffline(backlog, NOW, SETTINGS), []);
});

Deno.test("a backlog: the watermark is old too, so a device behind the others by less than its limit is online even when nothing was loaded for long", () => {
  // The consumer stopped an hour ago: no loads since, and event time stopped with it.
  const stopped = [device("a", 3600), device("b", 3650), device("c", 3700)];
  const actions = decideOffline(stopped, NOW, SETTINGS);
  // c is 100 s behind the watermark (limit 90); b only 50 s.
  assert.deepEqual(actions.map((a) => [a.id, a.peakS]), [["c", 100]]);
});

Deno.test("the load-time condition: a device silent in event time whose readings were loaded within the limit stays online", () => {
  const late = device("late", 600, { lastLoadMs: NOW - 90 * S });
  const lateLonger = device("late2", 600, { lastLoadMs: NOW - 91 * S });
  const actions = decideOffline([late, lateLonger, device("c", 0)], NOW, SETTINGS);
  assert.deepEqual(actions.map((a) => a.id), ["late2"]);
});

Deno.test("a device with no reading yet (every reading ahead) is never offline", () => {
  const none = device("none", 0, { lastEventMs: null, lastLoadMs: NOW - 86_400 * S });
  assert.deepEqual(decideOffline([none, device("c", 0)], NOW, SETTINGS), []);
});

Deno.test("a device seen once is judged on OFFLINE_MAX_S", () => {
  const once = device("once", 10_800, { intervalS: null });
  const onceLonger = device("once2", 10_801, { intervalS: null });
  const actions = decideOffline([once, onceLonger, device("c", 0)], NOW, SETTINGS);
  assert.deepEqual(actions.map((a) => [a.id, a.limitS]), [["once2", 10_800]]);
});

Deno.test("an already open alert is updated, not opened again: one more trigger, the later watermark, the longer silence", () => {
  const open = { lastTriggeredMs: NOW - 10 * S, peakS: 110, triggerCount: 4 };
  const actions = decideOffline([device("a", 120, { open }), device("c", 0)], NOW, SETTINGS);
  assert.deepEqual(actions, [{
    id: "a",
    kind: "update",
    limitS: 90,
    openedAtMs: NOW - 30 * S,
    lastTriggeredMs: NOW,
    peakS: 120,
    triggerCount: 5,
  }]);
});

Deno.test("an open alert whose device is no longer offline by the rule is left as it is", () => {
  // Its readings are loaded again, but none has cleared the alert (those ahead do not).
  const open = { lastTriggeredMs: NOW - 10 * S, peakS: 110, triggerCount: 4 };
  const back = device("a", 120, { open, lastLoadMs: NOW - 1 * S });
  assert.deepEqual(decideOffline([back, device("c", 0)], NOW, SETTINGS), []);
});

Deno.test("an update keeps the alert's worst when the watermark went back", () => {
  const open = { lastTriggeredMs: NOW + 5 * S, peakS: 500, triggerCount: 2 };
  const [action] = decideOffline([device("a", 120, { open }), device("c", 0)], NOW, SETTINGS);
  assert.equal(action.lastTriggeredMs, NOW + 5 * S);
  assert.equal(action.peakS, 500);
});
