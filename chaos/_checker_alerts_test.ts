import assert from "node:assert/strict";
import { alertEpisodes, anomalyReplay, judgeDevices, oneOpenAlert } from "./_checker_alerts.ts";
import { expect } from "./_checker_expect.ts";
import type { StoredFold } from "./_checker_monitoring.ts";
import {
  failing,
  history,
  id,
  type Monitored,
  mutate,
  ts,
  verdicts,
} from "./_checker_alerts_fixture.ts";

Deno.test("the monitoring invariants pass what a correct consumer stores", () => {
  const input = history();
  const v = verdicts(input);
  assert.deepEqual(v, { "alert-episodes": [], "one-open-alert": [], "anomaly-replay": [] });
  const judged = judgeDevices(input, expect(input));
  assert.equal(alertEpisodes(judged).checked, 5);
  assert.equal(anomalyReplay(judged).checked, 25);
  assert.equal(oneOpenAlert(input.monitoring.alerts).checked, 5);
});

Deno.test("the monitoring invariants fail each broken history", async (t) => {
  const cases: [string, Parameters<typeof mutate>[0], Monitored[], RegExp][] = [
    [
      "an episode stored twice",
      (m) => m.alerts.push({ ...m.alerts[0], id: 8 }),
      ["alert-episodes"],
      /stored twice/,
    ],
    [
      "an alert cleared one reading early",
      (m) => {
        const early = id("hot", 5);
        m.alerts[0] = { ...m.alerts[0], cleared_event: early.ID, cleared_at: ts(id("hot", 2)) };
      },
      ["alert-episodes"],
      /cleared_event/,
    ],
    [
      "a peak not updated",
      (m) => m.alerts[0].peak_value = 36,
      ["alert-episodes"],
      /peak_value 36 \(replay 37\)/,
    ],
    [
      "an open alert's streak wrong",
      (m) => m.alerts[3].clear_streak = 0,
      ["alert-episodes"],
      /clear_streak/,
    ],
    [
      "an episode missing",
      (m) => m.alerts.splice(4, 1),
      ["alert-episodes"],
      /anomaly opened by .* missing/,
    ],
    [
      "two open alerts",
      (m) => m.alerts.push({ ...m.alerts[1], id: 9, opened_event: id("hot", 4).ID }),
      ["alert-episodes", "one-open-alert"],
      /2 open alerts/,
    ],
    [
      "offline cleared at the reading's time, not its opening",
      (m) => m.alerts[5].cleared_at = ts(id("low", 3)),
      ["alert-episodes"],
      /offline alert 6 cleared_at/,
    ],
    [
      "offline cleared by an ahead reading",
      (m) => {
        m.alerts[6] = {
          ...m.alerts[6],
          cleared_event: id("odd", 6).ID,
          cleared_at: "2026-11-26T12:00:00.000000Z",
        };
      },
      ["alert-episodes"],
      /ahead/,
    ],
    [
      "offline cleared past a reading folded after it opened",
      (m) => {
        // low's second reading (10:00:01) is at its opening: it came after, and clears it.
        m.alerts[5] = { ...m.alerts[5], opened_at: "2026-11-26T10:00:01.000000Z" };
        m.alerts[5].cleared_at = ts(id("low", 3));
      },
      ["alert-episodes"],
      /offline alert 6 .* not cleared by .*000000000102/,
    ],
    [
      "offline left open past a reading folded after it opened",
      (m) => m.alerts[6].opened_at = "2026-11-26T10:00:07.000000Z",
      ["alert-episodes"],
      /offline alert 7 .* not cleared by .*000000000208/,
    ],
    [
      // Event times cannot tell this one: low's second reading (10:00:01) is before the opening
      // (10:00:30), yet the count says it was folded after the alert was created.
      "offline created after 1 reading, cleared by the third",
      (m) => m.alerts[5].qt_leituras_abertura = 1,
      ["alert-episodes"],
      /offline alert 6 .* not cleared by .*000000000102/,
    ],
    [
      "offline cleared by a reading folded before it was created",
      (m) => m.alerts[5].qt_leituras_abertura = 3,
      ["alert-episodes"],
      /offline alert 6 cleared by .*000000000103 \(seq 3\), folded before it was created/,
    ],
    [
      "offline left open past the first reading after its creation",
      (m) => m.alerts[6].qt_leituras_abertura = 7,
      ["alert-episodes"],
      /offline alert 7 .* not cleared by .*000000000208/,
    ],
    [
      "a slow median off by one ulp",
      (m) => m.models[0].temperatura_base! += 2 ** -47,
      ["anomaly-replay"],
      /temperatura_base 33\.06060180405\d+ \(replay 33\.06060180405461\)/,
    ],
    [
      "a score off by one ulp",
      (m) => {
        const f = m.folds.find((x) => x.escore_anomalia === 4)!;
        f.escore_anomalia = 4 + 2 ** -50;
      },
      ["anomaly-replay"],
      /escore_anomalia 4\.00000000000000\d+, replay 4/,
    ],
    [
      "an ahead reading scored",
      (m) => m.folds.find((x) => x.id === id("odd", 6).ID)!.escore_anomalia = 0,
      ["anomaly-replay"],
      /escore_anomalia 0, replay null/,
    ],
    [
      "a missing seq",
      (m) => m.folds.find((x) => x.id === id("low", 9).ID)!.seq_dispositivo = null,
      ["anomaly-replay"],
      /not 1\.\.9/,
    ],
    [
      "a model counting a replay twice",
      (m) => m.models[1].anomalia_n = 10,
      ["anomaly-replay"],
      /anomalia_n 10 \(replay 9\)/,
    ],
    [
      "a variance off",
      (m) => m.models[2].temperatura_var = 0.84,
      ["anomaly-replay"],
      /temperatura_var/,
    ],
  ];
  for (const [name, breakIt, want, message] of cases) {
    await t.step(name, () => {
      const input = mutate(breakIt);
      assert.deepEqual(failing(input), want);
      const all = Object.values(verdicts(input)).flat();
      assert.ok(all.some((m) => message.test(m)), all.join("\n"));
    });
  }
});

Deno.test("seqs out of a partition's order fail anomaly-replay, even when the rest agrees", () => {
  // low's readings 8 and 9 folded in the other order: scores are 0 and the alert ends open either
  // way, so only the order tells.
  const input = mutate((m) => {
    const a = m.folds.find((x) => x.id === id("low", 8).ID)!;
    const b = m.folds.find((x) => x.id === id("low", 9).ID)!;
    [a.seq_dispositivo, b.seq_dispositivo] = [b.seq_dispositivo, a.seq_dispositivo];
  });
  const v = verdicts(input);
  assert.ok(
    v["anomaly-replay"].some((m) => /came later on partition 1/.test(m)),
    v["anomaly-replay"].join("\n"),
  );
});

Deno.test("a reading whose records disagree on ahead may have been either", () => {
  const input = history();
  // odd's reading 6 carried by a record without a timestamp: ahead or not, unknown.
  const seq = input.ledger.findIndex((e) =>
    e.expect.outcome === "accepted" && e.expect.row.id === id("odd", 6).ID
  );
  (input as { log: unknown }).log = input.log.map((
    m,
  ) => (m.seq === seq ? { ...m, timestampMs: -1 } : m));
  assert.deepEqual(failing(input), []);
  // Stored as if not ahead, it must explain everything that way: here the score says ahead.
  input.monitoring.folds.find((x) => x.id === id("odd", 6).ID)!;
  (input.monitoring.folds as StoredFold[]).find((x) => x.id === id("odd", 6).ID)!.escore_anomalia =
    7;
  assert.deepEqual(failing(input), ["anomaly-replay"]);
});

Deno.test("an offline alert cleared by the first reading folded after its creation passes", () => {
  // Created after low's second reading; its third clears it.
  const input = mutate((m) => m.alerts[5].qt_leituras_abertura = 2);
  assert.deepEqual(failing(input), []);
  // Still open on odd, created after its last reading (9): nothing came after.
  const open = mutate((m) => m.alerts[6].qt_leituras_abertura = 9);
  assert.deepEqual(failing(open), []);
});

Deno.test("an offline alert cleared by the first reading at or past its opening passes", () => {
  const input = mutate((m) => {
    // low's third reading (10:00:02) is the first at its opening; the two before came before it.
    m.alerts[5] = { ...m.alerts[5], opened_at: "2026-11-26T10:00:02.000000Z" };
    m.alerts[5].cleared_at = ts(id("low", 3));
  });
  assert.deepEqual(failing(input), []);
});
