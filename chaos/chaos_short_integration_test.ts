/**
 * [chaos] The short fault-injection run, as CI runs it on every submission (from `deno task test`),
 * and the proof that the checker catches each planted bug. Each run is a separate process
 * (chaos/run.ts) on the chaos servers (.cache/services-chaos, ports 29092/29093/25432), never on
 * the developer stack; the servers are stopped at the end if this file started them.
 *
 * CHAOS_SEED picks the seed (default 1); a failure prints the command that replays it.
 */

import assert from "node:assert/strict";
import { ROOT } from "../scripts/repo.ts";
import { FAULT_KINDS } from "./faults.ts";
import { ROOT_ONLY_KINDS } from "./options.ts";
import type { Report } from "./report.ts";

const SEED = Deno.env.get("CHAOS_SEED") ?? "1";

/** Runs chaos/run.ts with `args`; returns its exit code and report. */
async function chaos(args: string[]): Promise<{ code: number; report?: Report; stderr: string }> {
  const reportPath = await Deno.makeTempFile({ prefix: "chaos-report-", suffix: ".json" });
  const env = Deno.env.toObject();
  // The harness isolates itself too; these must not even reach it.
  delete env.KAFKA_BROKERS;
  delete env.DATABASE_URL;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "chaos/run.ts",
      ...args,
      "--keep-services",
      "--no-publish",
      "--report-json",
      reportPath,
    ],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  let report: Report | undefined;
  try {
    report = JSON.parse(await Deno.readTextFile(reportPath));
  } catch { /* the run died before its report */ }
  await Deno.remove(reportPath).catch(() => {});
  return { code: out.code, report, stderr };
}

function failedInvariants(report: Report | undefined): string[] {
  return report?.verdicts.filter((v) => !v.ok).map((v) => v.invariant) ?? [];
}

const wasUp = (await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", "chaos/run.ts", "status"],
  cwd: ROOT,
  stdout: "null",
  stderr: "null",
}).output()).code === 0;

const options = { sanitizeResources: false, sanitizeOps: false };

/** Without root the run leaves out the kinds that need a mount namespace (and says so). */
const IS_ROOT = Deno.uid() === 0;
const KINDS = FAULT_KINDS.filter((k) => IS_ROOT || !ROOT_ONLY_KINDS.includes(k));

Deno.test({
  name: "[chaos] the short run (every fault kind, every corpus class) loses nothing",
  ...options,
  async fn() {
    const run = await chaos(["--short", "--seed", SEED]);
    const tail = run.stderr.split("\n").slice(-40).join("\n");
    assert.ok(run.report, `no report; exit ${run.code}:\n${tail}`);
    const f = run.report.figures;
    assert.deepEqual(
      failedInvariants(run.report),
      [],
      `replay with: ${run.report.run.command}\n${
        JSON.stringify(run.report.verdicts.filter((v) => !v.ok), null, 1)
      }`,
    );
    assert.equal(run.code, 0);
    assert.equal(
      Object.keys(f.faultsByKind).length,
      KINDS.length,
      "every fault kind was injected",
    );
    assert.equal(f.lost + f.duplicated + f.misRejected + f.wrongValues, 0);
    assert.ok(f.expectedRejects > 0 && f.expectedRows > 1000, JSON.stringify(f));
  },
});

/** Each planted bug, the faults that expose it, and the invariants that must fail. */
const PLANTED: [string, string[], string[]][] = [
  ["swallow-invalid", ["--short", "--faults", ""], ["invalid-rejected-once"]],
  ["no-conflict-check", ["--short", "--faults", ""], ["invalid-rejected-once"]],
  [
    "commit-before-write",
    ["--short", "--faults", "pg-terminate,pg-connection-drop,postgres-crash,consumer-kill"],
    ["valid-stored-once"],
  ],
  // The offsets stay on the server's disk while the event tables' volume is full (disk_full.ts):
  // offsets moved apart from the rows skip every batch written while it lasts.
  ["commit-before-write", ["--short", "--faults", "postgres-disk-full"], ["valid-stored-once"]],
  // A pause exposes the bug only when it catches the member with a batch in hand: a busy topic
  // (1000/s) and three pauses make that near certain (at 200/s with one pause it went unnoticed
  // in 3 of 5 runs here).
  [
    "no-fence",
    ["--duration", "90", "--rate", "1000", "--faults", "consumer-pause"],
    ["offsets-only-forward"],
  ],
];

for (const [bug, args, mustFail] of PLANTED) {
  Deno.test({
    name: `[chaos] the checker catches the planted bug ${bug} (${args.join(" ")})`,
    ...options,
    // A fault kind that needs root is reported as an ignored test elsewhere, never dropped quietly.
    ignore: !IS_ROOT && args.some((a) => ROOT_ONLY_KINDS.some((k) => a.includes(k))),
    async fn() {
      const run = await chaos([...args, "--seed", SEED, "--plant", bug]);
      assert.ok(
        run.report,
        `no report; exit ${run.code}:\n${run.stderr.split("\n").slice(-40).join("\n")}`,
      );
      assert.equal(run.report.verdict, "FAIL", `${bug} went unnoticed: ${run.report.run.command}`);
      assert.equal(run.code, 1);
      const failed = failedInvariants(run.report);
      for (const invariant of mustFail) {
        assert.ok(
          failed.includes(invariant),
          `${bug}: expected ${invariant} to fail, failed: ${failed}`,
        );
      }
    },
  });
}

Deno.test({
  name: "[chaos] stop the chaos servers if this file started them",
  ...options,
  ignore: wasUp,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "chaos/run.ts", "down"],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  },
});
