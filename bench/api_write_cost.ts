/**
 * What the api's additions to the migration cost the consumer's INSERT into tb_sensor_evento: the
 * same 500-row INSERT into five fresh databases, each with some of the additions dropped (the
 * fleet-wide `ix_sensor_evento_timestamp_ts`, the stream's `ix_sensor_evento_xid_carga`, the
 * NOTIFY trigger, all of them), interleaved round by round so load on the machine hits all alike.
 * Prints each one's total and its cost over none. Only the INSERT is timed: the consumer's whole
 * statement does more (offsets, devices, alerts), so its share of a drain is smaller.
 *
 *   deno run -A bench/api_write_cost.ts [--rounds 300]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { testDatabase } from "../api/testing/fixture.ts";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "300" } } });
const rounds = Number(values.rounds);
const variants: Record<string, string> = {
  "all additions": "",
  "no ts index": "DROP INDEX ix_sensor_evento_timestamp_ts;",
  "no xid index": "DROP INDEX ix_sensor_evento_xid_carga;",
  "no notify": "DROP TRIGGER tg_sensor_evento_notify ON tb_sensor_evento;",
  "none": `DROP TRIGGER tg_sensor_evento_notify ON tb_sensor_evento;
    DROP INDEX ix_sensor_evento_xid_carga; DROP INDEX ix_sensor_evento_timestamp_ts;
    ALTER TABLE tb_sensor_evento ALTER COLUMN xid_carga DROP DEFAULT;`,
};
const names = Object.keys(variants);
const dbs = [];
for (const name of names) {
  const db = await testDatabase(`bench_cost_${names.indexOf(name)}`);
  if (variants[name] !== "") await db.owner.unsafe(variants[name]);
  dbs.push(db);
}
// The api listens while the consumer writes: NOTIFY's queue is read, as in production.
const listener = await dbs[0].owner.listen("iot_stream", () => {});
const totals = names.map(() => 0);
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < names.length; i++) {
    const k = (i + round) % names.length;
    const started = performance.now();
    await dbs[k].owner.unsafe(
      `INSERT INTO tb_sensor_evento (id, id_dispositivo, "timestamp", timestamp_ts, temperatura,
         umidade, latitude, longitude, status, bateria, alerta)
       SELECT gen_random_uuid(), 'd' || (g % 100), '', now() - (g || ' ms')::interval, 20, 50, 0,
         0, 'OK', 80, false
       FROM generate_series($1::int, $1::int + 499) g`,
      [round * 500],
    );
    totals[k] += performance.now() - started;
  }
}
const none = totals[names.indexOf("none")];
for (let i = 0; i < names.length; i++) {
  const over = ((totals[i] / none - 1) * 100).toFixed(1);
  console.log(`${names[i].padEnd(14)} ${totals[i].toFixed(0)} ms (${over} % over none)`);
}
await listener.unlisten();
for (const db of dbs) await db.owner.end({ timeout: 5 });
