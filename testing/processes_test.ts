/**
 * The waits of {@linkcode ServiceProcess} are bounded: a service that does not exit, or does
 * not answer, fails the test that waits for it instead of hanging the whole run. The service is
 * a real consumer left waiting for databases that refuse connections (nothing listens on port 1
 * of loopback), so no server is needed.
 */

import assert from "node:assert/strict";
import { ServiceProcess } from "./processes.ts";

const unreachable = {
  DATABASE_URL: "postgres://iot:iot@127.0.0.1:1/iot",
  KAFKA_BROKERS: "127.0.0.1:1",
};

Deno.test({
  name: "ServiceProcess.exited() kills a process still running at its bound and says so",
  sanitizeResources: false,
  async fn() {
    const consumer = new ServiceProcess("consumer/main.ts", unreachable);
    try {
      await consumer.waitForLog((l) => l.msg === "consumer starting");
      await assert.rejects(
        consumer.exited(300),
        /still running after 300 ms \(killed it\); its last log lines:\n.*consumer starting/s,
      );
      const status = await consumer.exited();
      assert.equal(status.signal, "SIGKILL", "the bound killed it");
    } finally {
      await consumer.dispose();
    }
  },
});

Deno.test({
  name: "ServiceProcess.get() fails after its bound when the service never answers",
  sanitizeResources: false,
  async fn() {
    const consumer = new ServiceProcess("consumer/main.ts", unreachable);
    try {
      const health = await consumer.get("/healthz");
      assert.equal(health.status, 200);
      await health.body?.cancel();
      // Stopped, the process keeps its socket: the kernel accepts, nobody replies.
      consumer.signal("SIGSTOP");
      await assert.rejects(
        consumer.get("/healthz", 300),
        new RegExp(`GET /healthz on pid ${consumer.pid}: no answer within 300 ms`),
      );
    } finally {
      consumer.signal("SIGCONT");
      await consumer.dispose();
    }
  },
});
