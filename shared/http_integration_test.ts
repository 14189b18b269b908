/**
 * [integration] The operations server on real sockets (loopback only): every address family, and
 * a port already taken.
 * @module
 */

import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { startOpsServer } from "./http.ts";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

Deno.test("[integration] the ops server answers on IPv4 and IPv6 (probes of any cluster)", async () => {
  let reasons = ["kafka: not connected"];
  const ops = startOpsServer(0, { notReadyReasons: () => reasons }, new Registry(), quiet);
  try {
    const ready = async () => {
      const text = await (await fetch(`http://127.0.0.1:${ops.port}/metrics`)).text();
      return /^iot_ready (\d+)$/m.exec(text)?.[1];
    };
    assert.equal(await ready(), "0", "iot_ready while /readyz answers 503");
    for (const host of ["127.0.0.1", "[::1]"]) {
      const health = await fetch(`http://${host}:${ops.port}/healthz`);
      assert.equal(health.status, 200, host);
      await health.body?.cancel();
      const ready = await fetch(`http://${host}:${ops.port}/readyz`);
      assert.equal(ready.status, 503, host);
      assert.deepEqual(await ready.json(), {
        status: "not ready",
        reasons: ["kafka: not connected"],
      });
    }
    reasons = [];
    assert.equal(await ready(), "1", "iot_ready once ready");
  } finally {
    await ops.close();
  }
});

Deno.test("[integration] a taken HTTP_PORT is an error naming the setting", async () => {
  const first = startOpsServer(0, { notReadyReasons: () => [] }, new Registry(), quiet);
  try {
    assert.throws(
      () => startOpsServer(first.port, { notReadyReasons: () => [] }, new Registry(), quiet),
      new RegExp(`^Error: Cannot listen on HTTP_PORT ${first.port}: `),
    );
  } finally {
    await first.close();
  }
});
