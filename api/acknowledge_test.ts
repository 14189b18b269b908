import assert from "node:assert/strict";
import { checkAckToken } from "./acknowledge.ts";

Deno.test("checkAckToken() refuses without a configured token, says why, and checks the bearer", () => {
  const token = "s3cret-token-1234";
  assert.deepEqual(checkAckToken(undefined, `Bearer ${token}`), {
    status: 403,
    detail: "Acknowledging is turned off: the api has no API_ACK_TOKEN setting",
  });
  assert.equal(checkAckToken(token, `Bearer ${token}`), undefined);
  assert.equal(checkAckToken(token, `bearer  ${token}`), undefined);
  for (const header of [null, "", token, `Basic ${token}`, `Bearer ${token}x`, "Bearer s3cret"]) {
    assert.equal(checkAckToken(token, header)?.status, 401, String(header));
  }
});
