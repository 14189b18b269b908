/**
 * What `lifecycle.ts` records and `k8s/control_plane_test.ts` asserts on, written as JSON.
 *
 * @module
 */

import type { DatabaseOutcome } from "./cnpg.ts";
import type { ContainerRun } from "./kubelet.ts";

/** One command's outcome. */
export interface Step {
  /** What was run, as a person would type it. */
  command: string;
  /** Exit code. */
  code: number;
  /** stdout + stderr, trimmed to the last 4000 characters. */
  output: string;
  /** Seconds it took. */
  seconds: number;
}

/** The KafkaTopic's partitions and the operands Jobs after one lifecycle step. */
export interface Observation {
  /** The Helm command. */
  step: Step;
  /** `spec.partitions` of the KafkaTopic, or null when it does not exist. */
  topicPartitions: number | null;
  /** Names of the custom resources of the release that exist. */
  customResources: string[];
  /** Containers the stand-in ran during this step. */
  runs: ContainerRun[];
}

/** What lifecycle.ts saw. */
export interface Report {
  /** Server version, from `kubectl version`. */
  serverVersion: string;
  install: Observation;
  upgrade: Observation;
  rollback: Observation;
  /** The KafkaTopic edited by hand (partitions 10), then a second rollback to revision 1. */
  handEdit: Step;
  secondRollback: Observation;
  uninstall: Observation;
  /** Why the CloudNativePG operator did not start, or null. */
  operatorError: string | null;
  /** Keys of the `<cluster>-app` Secret the CloudNativePG operator made, after install. */
  databaseSecretKeys: string[];
  /** The Cluster's spec after install: what the operator's mutating webhook defaulted. */
  clusterSpec: DatabaseOutcome["clusterSpec"];
  /** `helm test` after install. Its pod (psql) cannot run here, so it cannot pass. */
  helmTest: Observation;
  /** Pods the stand-in could not run. */
  notRun: Record<string, string>;
  /** Errors of the stand-ins' loops (kubelet, Strimzi Secrets). */
  standInErrors: string[];
  /** Secrets the Strimzi stand-in made (cluster CA, one per KafkaUser). */
  strimziSecrets: string[];
  /** The dry-run's problems for a Deployment that runs as root with no security context: the
   * control that shows a Pod Security violation would be seen. */
  controlProblems: string[];
  /** A dry-run of a Cluster that sets `port`, which the operator's validating webhook refuses:
   * the API server's status and message ({@link webhookControl}). */
  webhookControl: string;
  /** Per scenario: the dry-run's problems (errors and warnings), empty when all were accepted. */
  dryRun: Record<string, { objects: number; customResources: number; problems: string[] }>;
  /** Total seconds. */
  seconds: number;
}
