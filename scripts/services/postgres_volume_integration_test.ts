/**
 * [integration] The private volume for real: made in a mount namespace that the machine does not
 * see, full when capped at its use (ENOSPC), writable again when the cap is lifted, and gone
 * with its holder. Needs root (a mount namespace); ignored, by name, otherwise.
 * @module
 */

import assert from "node:assert/strict";
import { run } from "../command.ts";
import { stackPaths } from "./stack_config.ts";
import {
  capVolume,
  closeVolume,
  inVolume,
  openVolume,
  volumeHolder,
  volumePath,
  volumePaths,
  volumeUsage,
} from "./postgres_volume.ts";
import { isAlive } from "./util.ts";

Deno.test({
  name:
    "[integration] openVolume() makes a tmpfs only its namespace sees; capVolume('full') makes writes fail with ENOSPC until lifted (needs root)",
  ignore: Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "iot-volume-" });
    const pg = stackPaths(dir);
    await Deno.mkdir(pg.postgresDir, { recursive: true });
    const size = 4 * 1024 * 1024;
    const holder = await openVolume(pg, { uid: 0, gid: 0 }, size);
    try {
      assert.equal(await volumeHolder(pg), holder);
      assert.equal(await openVolume(pg, { uid: 0, gid: 0 }, size), holder, "reused, not doubled");
      const mountPoint = volumePaths(pg).mountPoint;
      const ours = await Deno.readTextFile("/proc/self/mountinfo");
      assert.ok(!ours.includes(mountPoint), "nothing mounted on the machine");
      assert.equal((await volumeUsage(pg)).sizeBytes, size);

      // Inside the namespace, through nsenter, as PostgreSQL writes.
      const write = async (name: string) =>
        await run(
          await inVolume(pg, [
            "dd",
            "if=/dev/zero",
            `of=${mountPoint}/${name}`,
            "bs=8k",
            "count=4",
          ]),
        );
      assert.equal((await write("a")).code, 0);
      const capped = await capVolume(pg, "full");
      assert.equal(capped, (await volumeUsage(pg)).usedBytes);
      assert.equal((await volumeUsage(pg)).freeBytes, 0);
      const refused = await write("b");
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /No space left on device/);

      await capVolume(pg, size);
      assert.equal((await write("c")).code, 0);
      const listed = [...Deno.readDirSync(await volumePath(pg))].map((e) => e.name).sort();
      assert.deepEqual(listed, ["a", "b", "c"]);
    } finally {
      assert.equal(await closeVolume(pg), true);
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(isAlive(holder), false, "the holder is gone");
    assert.equal(await volumeHolder(pg), undefined);
  },
});
