/**
 * Prepares a database for the Flink peer: the consumer's migration (same table, same indexes),
 * then bench/flink/trigger.sql, which derives the columns the job cannot compute.
 *
 *     deno run -A bench/flink/prepare.ts postgres://iot:iot@127.0.0.1:5432/flink_peer
 *
 * @module
 */

import postgres from "postgres";
import { migrate } from "../../consumer/migrations.ts";

/** Migrates `url`'s database and installs the peer's trigger. */
export async function prepareFlinkDatabase(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(sql);
    const trigger = await Deno.readTextFile(new URL("./trigger.sql", import.meta.url));
    await sql.unsafe(trigger).simple();
  } finally {
    await sql.end();
  }
}

if (import.meta.main) await prepareFlinkDatabase(Deno.args[0]);
