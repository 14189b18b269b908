/**
 * The values scenarios the chart is tested in: rendered and validated by chart_test.ts, and
 * dry-run on a real API server by k8s/control_plane_test.ts.
 *
 * @module
 */

/** One set of values files. */
export interface Scenario {
  /** Name in test titles. */
  name: string;
  /** Values files, relative to the chart, in order. */
  files: string[];
}

/** Every scenario; each ci/*.yaml file must appear in one (chart_test.ts checks). */
export const SCENARIOS: Scenario[] = [
  { name: "default (kind)", files: [] },
  { name: "operators off, external Kafka and PostgreSQL", files: ["ci/external-values.yaml"] },
  {
    name: "production sizing",
    files: ["values-production.yaml", "ci/production-values.yaml"],
  },
  { name: "KEDA on Kafka lag", files: ["ci/keda-values.yaml"] },
  {
    name: "KEDA on Prometheus, operators already installed",
    files: ["ci/keda-prometheus-values.yaml"],
  },
  {
    name: "plaintext Kafka, no NetworkPolicies (insecure, asked for)",
    files: ["ci/plaintext-values.yaml"],
  },
];
