import assert from "node:assert/strict";
// Only this test reads the consumer's model: the checker itself never imports the code it judges.
// Two independent transcriptions of the rules' recurrences must agree to the bit, or one of them
// is wrong; this finds out before a chaos run does.
import { type AnomalyModel, EMPTY_MODEL, scoreAndLearn } from "../consumer/anomaly.ts";
import { replayDevice } from "./_checker_fold.ts";
import { RUN_MONITORING } from "./monitoring.ts";
import { Rng } from "./rng.ts";

Deno.test("the checker's replay scores and learns exactly as consumer/anomaly.ts does", () => {
  const rng = new Rng(7);
  for (const settings of [RUN_MONITORING, { ...RUN_MONITORING, alpha: 0.3, warmup: 0 }]) {
    for (let device = 0; device < 20; device++) {
      const readings = Array.from({ length: 200 }, (_, i) => ({
        id: String(i),
        timestamp_ts: "2026-11-26T10:00:00.000000Z",
        temperatura: rng.chance(0.05) ? rng.float(35, 60, 6) : rng.float(18, 22, 6),
        umidade: rng.float(40, 60, 6),
        bateria: 50,
      }));
      const ahead = new Set(readings.filter(() => rng.chance(0.05)).map((r) => r.id));
      const replay = replayDevice(readings, (id) => ahead.has(id), settings);
      let model: AnomalyModel = EMPTY_MODEL;
      for (const r of readings) {
        if (ahead.has(r.id)) {
          assert.equal(replay.scores.get(r.id), null);
          continue;
        }
        const out = scoreAndLearn(model, r, settings);
        model = out.model;
        assert.equal(replay.scores.get(r.id), out.score, `reading ${r.id}`);
      }
      assert.equal(replay.model.n, model.n);
      assert.deepEqual(replay.model.temperatura, model.metrics!.temperatura);
      assert.deepEqual(replay.model.umidade, model.metrics!.umidade);
    }
  }
});
