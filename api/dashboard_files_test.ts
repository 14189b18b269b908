import assert from "node:assert/strict";
import { CONTENT_SECURITY_POLICY, dashboardHandler } from "./dashboard_files.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const files = new Map([
  ["index.html", bytes("<!doctype html><p>fleet</p>")],
  ["app.js", bytes("export const a = 1;\n")],
  ["style.css", bytes("body{}")],
]);

Deno.test("dashboardHandler() serves the page at / and its files under /dashboard/", async (t) => {
  const serve = await dashboardHandler(files);
  await t.step("the page, with its policy", async () => {
    const response = serve(new Request("http://localhost/"));
    assert.ok(response);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(response.headers.get("cache-control"), "no-cache");
    assert.equal(response.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(await response.text(), "<!doctype html><p>fleet</p>");
    assert.equal(serve(new Request("http://localhost/index.html"))?.status, 200);
  });
  await t.step("a module as JavaScript, a stylesheet as CSS", async () => {
    const js = serve(new Request("http://localhost/dashboard/app.js"));
    assert.equal(js?.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(js?.headers.get("content-length"), "20");
    assert.equal(js?.headers.get("content-security-policy"), null);
    assert.equal(await js?.text(), "export const a = 1;\n");
    const css = serve(new Request("http://localhost/dashboard/style.css"));
    assert.equal(css?.headers.get("content-type"), "text/css; charset=utf-8");
    await css?.body?.cancel();
  });
  await t.step("other paths are left to the api; unknown dashboard files are 404", () => {
    assert.equal(serve(new Request("http://localhost/api/devices")), undefined);
    assert.equal(serve(new Request("http://localhost/openapi.json")), undefined);
    assert.equal(serve(new Request("http://localhost/dashboard/nope.js"))?.status, 404);
    assert.equal(serve(new Request("http://localhost/dashboard/../deno.json"))?.status, undefined);
  });
  await t.step("HEAD has the headers and no body; POST is 405", () => {
    const head = serve(new Request("http://localhost/dashboard/app.js", { method: "HEAD" }));
    assert.equal(head?.status, 200);
    assert.equal(head?.body, null);
    const post = serve(new Request("http://localhost/", { method: "POST" }));
    assert.equal(post?.status, 405);
    assert.equal(post?.headers.get("allow"), "GET, HEAD");
  });
});

Deno.test("dashboardHandler() answers 304 to a matching If-None-Match, 200 after a change", async () => {
  const serve = await dashboardHandler(files);
  const first = serve(new Request("http://localhost/dashboard/app.js"));
  const etag = first?.headers.get("etag");
  await first?.body?.cancel();
  assert.match(etag ?? "", /^"[0-9a-f]{24}"$/);
  const again = serve(
    new Request("http://localhost/dashboard/app.js", { headers: { "if-none-match": etag! } }),
  );
  assert.equal(again?.status, 304);
  assert.equal(again?.body, null);
  const weak = serve(
    new Request("http://localhost/dashboard/app.js", {
      headers: { "if-none-match": `"other", W/${etag}` },
    }),
  );
  assert.equal(weak?.status, 304);
  const changed = await dashboardHandler(new Map([...files, ["app.js", bytes("export {};\n")]]));
  const fresh = changed(
    new Request("http://localhost/dashboard/app.js", { headers: { "if-none-match": etag! } }),
  );
  assert.equal(fresh?.status, 200);
  assert.notEqual(fresh?.headers.get("etag"), etag);
  await fresh?.body?.cancel();
});

Deno.test("dashboardHandler() refuses a file of unknown type and a folder without index.html", async () => {
  await assert.rejects(
    dashboardHandler(new Map([...files, ["notes.txt", bytes("x")]])),
    new TypeError('Cannot serve dashboard file "notes.txt": unknown type'),
  );
  await assert.rejects(
    dashboardHandler(new Map([["app.js", bytes("")]])),
    new TypeError("Cannot serve the dashboard: no index.html"),
  );
});
