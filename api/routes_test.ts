import assert from "node:assert/strict";
import { matchRoute } from "./routes.ts";

Deno.test("matchRoute() finds the route and its decoded path parameters", () => {
  assert.deepEqual(matchRoute("GET", "/api/devices/a%2Fb"), {
    route: "GET /api/devices/{id}",
    params: { id: "a/b" },
  });
  assert.deepEqual(matchRoute("POST", "/api/alerts/7/acknowledge"), {
    route: "POST /api/alerts/{id}/acknowledge",
    params: { id: "7" },
  });
  assert.deepEqual(matchRoute("HEAD", "/api/stats"), { route: "GET /api/stats", params: {} });
});

Deno.test("matchRoute() answers 405 with the allowed methods, 404 for unknown paths", () => {
  assert.deepEqual(matchRoute("GET", "/api/alerts/7/acknowledge"), { allow: ["POST"] });
  assert.deepEqual(matchRoute("POST", "/api/events"), { allow: ["GET"] });
  assert.equal(matchRoute("GET", "/api/nothing"), 404);
  assert.equal(matchRoute("GET", "/api/devices/"), 404, "an empty id is no device");
  assert.equal(matchRoute("GET", "/api/devices/%E0%A4%A"), 404, "a broken escape");
});
