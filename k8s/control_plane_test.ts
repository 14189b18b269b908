/**
 * [control-plane] The chart on a real Kubernetes control plane: etcd v3.7.0, kube-apiserver and
 * kube-controller-manager v1.37.2 built from the Go module proxy (control-plane/build.sh, run by
 * `deno task test`), the operators' real CRDs, a namespace that enforces the `restricted` Pod
 * Security profile, and the real CloudNativePG operator v1.30.0 run as a process, its webhooks
 * pointed at it (control-plane/cnpg.ts). No kubelet can run here: a stand-in binds pods and runs
 * for real only the operands Jobs' kubectl containers, with their ServiceAccount's token; every
 * other Deployment's pod is reported Ready without running (control-plane/kubelet.ts), and
 * run-to-completion pods of other images (PostgreSQL's initdb, the helm test pod) stay Pending.
 *
 * Everything runs inside a network namespace with only loopback (`unshare -n`): the API server
 * dials Service cluster IPs, which must not leave this machine.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Observation, Report } from "./control-plane/report.ts";
import { BIN_DIR } from "./control-plane/cluster.ts";
import { ROOT } from "../scripts/repo.ts";

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

async function runLifecycle(): Promise<Report> {
  const binaries = ["etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "cnpg-manager"];
  for (const binary of binaries) {
    assert.ok(
      exists(`${BIN_DIR}/${binary}`),
      `${BIN_DIR}/${binary} missing: run \`bash k8s/control-plane/build.sh\` (deno task test does)`,
    );
  }
  const reportFile = await Deno.makeTempFile({ prefix: "iot-control-plane-", suffix: ".json" });
  try {
    // A network namespace of its own, loopback up, nothing else. Not root: a user namespace too.
    const ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].find((p) => exists(p));
    assert.ok(ip, "ip not found (Debian: apt-get install iproute2)");
    const out = await new Deno.Command("unshare", {
      args: [
        ...(Deno.uid() === 0 ? [] : ["--map-root-user"]),
        "--net",
        "--",
        "sh",
        "-c",
        `${ip} link set lo up && exec "$0" "$@"`,
        Deno.execPath(),
        "run",
        "-A",
        "--cached-only",
        `${ROOT}/k8s/control-plane/lifecycle.ts`,
        reportFile,
      ],
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    const text = Deno.readTextFileSync(reportFile);
    assert.ok(text.length > 0, `lifecycle.ts wrote no report (exit ${out.code})`);
    assert.equal(out.code, 0, "lifecycle.ts exited with an error (its log is above)");
    return JSON.parse(text);
  } finally {
    await Deno.remove(reportFile);
  }
}

/** What a step printed, for failure messages. */
function shown(o: Observation): string {
  const runs = o.runs.map((r) => `  ${r.pod} ${r.container} (exit ${r.exitCode}): ${r.output}`);
  return `${o.step.command}: exit ${o.step.code}\n${o.step.output}\n${runs.join("\n")}`;
}

/** The containers the stand-in ran, as `pod-prefix container exit`. */
function ran(o: Observation): string[] {
  return o.runs.map((r) => `${r.pod.replace(/-[a-z0-9]{5}$/, "")} ${r.container} ${r.exitCode}`);
}

Deno.test({
  name:
    "[control-plane] the chart on a real API server: install, upgrade, rollback, uninstall, every scenario",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const report = await runLifecycle();
    console.log(`  control plane ${report.serverVersion}, ${report.seconds.toFixed(0)}s in all`);

    await t.step("the server reports the version the chart's kubeVersion expects", () => {
      assert.equal(report.serverVersion, "v1.37.2");
    });

    await t.step(
      "helm install --wait --wait-for-jobs: the operands Job waits for the CRDs and the operator, then applies, with its own token",
      () => {
        const o = report.install;
        assert.equal(o.step.code, 0, shown(o));
        const steps = ran(o).map((r) => r.replace(/ \d+$/, ""));
        assert.deepEqual(
          [...new Set(steps)],
          [
            "iot/iot-operands-1 wait-for-crds",
            "iot/iot-operands-1 wait-for-cloudnative-pg",
            "iot/iot-operands-1 apply",
          ],
          shown(o),
        );
        const applies = o.runs.filter((r) => r.container === "apply");
        assert.equal(applies.at(-1)!.exitCode, 0, shown(o));
        for (const refused of applies.slice(0, -1)) {
          // Only the operator's webhook, not yet serving, may refuse; the kubelet retries.
          assert.match(refused.output, /failed calling webhook "mcluster\.cnpg\.io"/, shown(o));
        }
        console.log(
          `    the apply container ran ${applies.length} time(s); the operator's webhook accepted the last`,
        );
        assert.match(
          applies.at(-1)!.output,
          /kafkatopic\.kafka\.strimzi\.io\/iot\.sensors serverside-applied/,
        );
        assert.deepEqual(o.customResources, [
          "cluster.postgresql.cnpg.io/iot-pg",
          "kafka.kafka.strimzi.io/iot",
          "kafkanodepool.kafka.strimzi.io/dual-role",
          "kafkatopic.kafka.strimzi.io/iot.sensors",
        ]);
        assert.equal(o.topicPartitions, 6);
      },
    );

    await t.step(
      "the CloudNativePG operator accepted the Cluster and made the Secret the consumer reads",
      () => {
        assert.equal(report.operatorError, null);
        assert.ok(report.databaseSecretKeys.includes("uri"), `keys: ${report.databaseSecretKeys}`);
        assert.ok(report.clusterSpec, "the Cluster exists");
        // The chart leaves imageName empty; the operator's mutating webhook sets its default.
        assert.equal(
          report.clusterSpec.imageName,
          "ghcr.io/cloudnative-pg/postgresql:18.4-system-trixie",
        );
        console.log(`    iot-pg-app keys: ${report.databaseSecretKeys.join(", ")}`);
      },
    );

    await t.step(
      "helm test runs the chart's test pod, which cannot pass here: psql cannot run, no PostgreSQL exists",
      () => {
        const o = report.helmTest;
        // Helm created the hook's pod and waited for it; the stand-in left it Pending.
        assert.match(o.step.output, /TEST SUITE:\s+iot-test-rows/, shown(o));
        assert.match(o.step.output, /Phase:\s+Failed/, shown(o));
        assert.notEqual(o.step.code, 0, shown(o));
        assert.deepEqual(o.runs, []);
        assert.match(report.notRun["iot/iot-test-rows"] ?? "", /the stand-in runs only kubectl/);
      },
    );

    await t.step("helm upgrade runs a new Job that re-applies (partitions 6 -> 8)", () => {
      const o = report.upgrade;
      assert.equal(o.step.code, 0, shown(o));
      assert.ok(ran(o).includes("iot/iot-operands-2 apply 0"), shown(o));
      assert.equal(o.topicPartitions, 8);
    });

    await t.step("helm rollback to revision 1 re-applies its resources (partitions 8 -> 6)", () => {
      const o = report.rollback;
      assert.equal(o.step.code, 0, shown(o));
      assert.ok(ran(o).includes("iot/iot-operands-rollback apply 0"), shown(o));
      assert.equal(o.topicPartitions, 6);
    });

    await t.step(
      "a second rollback to the same revision re-applies again (a hand edit to 10 partitions is undone)",
      () => {
        assert.equal(report.handEdit.code, 0, report.handEdit.output);
        const o = report.secondRollback;
        assert.equal(o.step.code, 0, shown(o));
        assert.ok(ran(o).includes("iot/iot-operands-rollback apply 0"), shown(o));
        assert.equal(o.topicPartitions, 6, "the revision's resources are back");
      },
    );

    await t.step("helm uninstall: the pre-delete hook deletes the topic, then the rest", () => {
      const o = report.uninstall;
      assert.equal(o.step.code, 0, shown(o));
      assert.deepEqual(ran(o), [
        "iot/iot-operands-cleanup delete-topic 0",
        "iot/iot-operands-cleanup delete-operands 0",
      ], shown(o));
      assert.deepEqual(o.customResources, []);
    });

    await t.step(
      "the services' pods became ready only with the Secrets they mount (Strimzi stand-in)",
      () => {
        // The kubelet stand-in waits for every Secret a pod mounts; no Strimzi operator runs, so
        // a stand-in made these, as its cluster and user operators would.
        assert.deepEqual([...report.strimziSecrets].sort(), [
          "iot-cluster-ca-cert",
          "iot-consumer",
          "iot-producer",
        ]);
      },
    );

    await t.step("the stand-in ran what it could and says what it could not", () => {
      assert.deepEqual(report.standInErrors, []);
      // Only the PostgreSQL pods the operator creates (initdb) and the helm test pod (psql).
      const others = Object.keys(report.notRun).filter((pod) =>
        !pod.startsWith("iot/iot-pg-") && pod !== "iot/iot-test-rows"
      );
      assert.deepEqual(others, [], JSON.stringify(report.notRun));
      console.log(`    not run: ${Object.keys(report.notRun).join(", ") || "nothing"}`);
    });

    await t.step(
      "the dry-run check sees a Pod Security violation (control: a Deployment with no security context)",
      () => {
        assert.match(
          report.controlProblems.join("\n"),
          /Warning: would violate PodSecurity "restricted:latest"/,
        );
      },
    );

    await t.step(
      "the dry-run check consults the operator's validating webhook (control: a Cluster setting port)",
      () => {
        assert.match(
          report.webhookControl,
          /^422: admission webhook "vcluster\.cnpg\.io" denied the request: .*parameters\.port/,
        );
      },
    );

    for (const [scenario, result] of Object.entries(report.dryRun)) {
      await t.step(
        `server-side dry-run, ${scenario}: every object and custom resource accepted, no Pod Security warning`,
        () => {
          assert.ok(result.objects > 5, `${result.objects} objects rendered`);
          assert.deepEqual(result.problems, []);
          console.log(
            `    ${scenario}: ${result.objects} objects, ${result.customResources} custom resources`,
          );
        },
      );
    }
  },
});
