import assert from "node:assert/strict";
import { MavenProgress, parseTransfer } from "./maven_progress.ts";

const downloaded = (file: string, size: string) =>
  `[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/x/${file} (${size} at 1.0 MB/s)`;

Deno.test("parseTransfer() reads the file and its size in each unit Maven prints", () => {
  assert.deepEqual(parseTransfer(downloaded("a.pom", "345 B")), { file: "a.pom", bytes: 345 });
  assert.deepEqual(parseTransfer(downloaded("b.jar", "12 kB")), { file: "b.jar", bytes: 12_000 });
  assert.deepEqual(parseTransfer(downloaded("c.jar", "2.5 MB")), {
    file: "c.jar",
    bytes: 2_500_000,
  });
  assert.deepEqual(
    parseTransfer("[INFO] Downloaded from central: https://r/m/d.jar"),
    { file: "d.jar", bytes: 0 },
  );
});

Deno.test("parseTransfer() ignores every other line, the start of a download too", () => {
  assert.equal(parseTransfer("[INFO] Downloading from central: https://r/m/a.jar"), undefined);
  assert.equal(parseTransfer("[INFO] BUILD SUCCESS"), undefined);
  assert.equal(parseTransfer(""), undefined);
});

Deno.test("MavenProgress reports at most once per interval and counts every transfer", () => {
  const progress = new MavenProgress(0, 5000);
  assert.equal(progress.line(downloaded("a.jar", "1 MB"), 1000), undefined);
  assert.equal(progress.line("[INFO] Copying a.jar", 6000), undefined, "not a transfer");
  assert.equal(
    progress.line(downloaded("b.jar", "2 MB"), 6000),
    "2 files, 3.0 MB downloaded, last b.jar",
  );
  assert.equal(progress.line(downloaded("c.jar", "1 MB"), 9000), undefined, "within 5 s");
  assert.equal(progress.files, 3);
  assert.equal(progress.summary(), "3 files, 4.0 MB downloaded");
});
