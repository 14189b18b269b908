/**
 * The dashboard as shipped, read from api/dashboard/ (this needs --allow-read, so it is not a
 * bare unit test): every file has a type the server knows, every module the page imports is
 * there, and nothing is loaded from another origin.
 */

import assert from "node:assert/strict";
import { dashboardHandler, readDashboardFiles } from "./dashboard_files.ts";

Deno.test("the shipped dashboard: every file is served, and every module the page imports exists", async () => {
  const shipped = await readDashboardFiles();
  const serve = await dashboardHandler(shipped);
  const html = new TextDecoder().decode(shipped.get("index.html"));
  const referenced = [...html.matchAll(/(?:src|href)="\/dashboard\/([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(referenced.sort(), ["app.js", "style.css"]);
  for (const [name, body] of shipped) {
    if (!name.endsWith(".js")) continue;
    const text = new TextDecoder().decode(body);
    for (const [, imported] of text.matchAll(/from "\.\/([^"]+)"/g)) {
      assert.ok(shipped.has(imported), `${name} imports ${imported}, which is not shipped`);
    }
    // Nothing from outside this origin: no CDN, no absolute URL import.
    assert.doesNotMatch(text, /import[^;]*from "https?:/, name);
  }
  assert.doesNotMatch(html, /https?:\/\//, "the page loads nothing from elsewhere");
  for (const name of shipped.keys()) {
    const path = name === "index.html" ? "/" : `/dashboard/${name}`;
    const response = serve(new Request(`http://localhost${path}`));
    assert.equal(response?.status, 200, path);
    await response?.body?.cancel();
  }
});
