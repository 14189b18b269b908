/**
 * `deno task settings`: writes what the settings tables say everywhere else it is needed: the
 * README's settings tables, the `env` part of the chart's values.schema.json, the `env` defaults
 * of values.yaml, and charts/templates/_settings.tpl (defaults for the chart's own checks).
 * charts/settings_file_test.ts fails when a committed file and the tables disagree.
 *
 * The tables: shared/service_settings.ts and shared/kafka_security.ts (both services),
 * consumer/config.ts, producer/config.ts and api/config.ts (each service's own; the api has no
 * Kafka settings).
 *
 * @module
 */

import { stringify } from "yaml";
import {
  acceptedText,
  allSettings,
  defaultText,
  type Setting,
  settingJsonSchema,
  type SettingsTable,
} from "@iot/shared/runtime";
import { CONSUMER_DEFAULTS, CONSUMER_SETTINGS } from "../consumer/config.ts";
import { PRODUCER_DEFAULTS, PRODUCER_SETTINGS } from "../producer/config.ts";
import { API_SETTINGS, apiSettingsTable } from "../api/config.ts";

/** The two Kafka services, whose shared settings the README lists once. */
export const SERVICES = ["producer", "consumer"] as const;
type Service = typeof SERVICES[number];

/** Every service the chart deploys, in the order values.yaml lists them. */
export const CHART_SERVICES = [...SERVICES, "api"] as const;
type ChartService = typeof CHART_SERVICES[number];

/** Every row each service reads, in reading order. */
export const SERVICE_SETTINGS: Readonly<Record<ChartService, SettingsTable>> = {
  producer: allSettings(PRODUCER_DEFAULTS, PRODUCER_SETTINGS),
  consumer: allSettings(CONSUMER_DEFAULTS, CONSUMER_SETTINGS),
  api: apiSettingsTable(),
};

/** The files this writes, with the function that makes each from its current text. */
export const GENERATED: readonly { file: URL; make: (current: string) => string }[] = [
  { file: new URL("../README.md", import.meta.url), make: readmeText },
  { file: new URL("../charts/values.schema.json", import.meta.url), make: valuesSchemaText },
  { file: new URL("../charts/values.yaml", import.meta.url), make: valuesYamlText },
  { file: new URL("../charts/templates/_settings.tpl", import.meta.url), make: settingsTplText },
];

const README_BEGIN = "<!-- settings:begin (written by `deno task settings`: edit the tables) -->";
const README_END = "<!-- settings:end -->";

/** The README with its settings tables rewritten between the markers. */
export function readmeText(current: string): string {
  const inBoth = (name: string) =>
    name in SERVICE_SETTINGS.producer && name in SERVICE_SETTINGS.consumer;
  const shared = Object.keys(SERVICE_SETTINGS.consumer).filter(inBoth);
  const own = (s: Service) => Object.keys(SERVICE_SETTINGS[s]).filter((n) => !inBoth(n));
  const body = [
    "Both services (`shared/service_settings.ts`, `shared/kafka_security.ts`):",
    markdownTable(shared.map((name) => sharedRow(name))),
    "The consumer (`consumer/config.ts`):",
    markdownTable(
      own("consumer").map((name) => row(name, SERVICE_SETTINGS.consumer[name], "consumer")),
    ),
    "The producer (`producer/config.ts`):",
    markdownTable(
      own("producer").map((name) => row(name, SERVICE_SETTINGS.producer[name], "producer")),
    ),
    // Wrapped as deno fmt wraps prose, so the written README passes `deno fmt --check`.
    [
      "The api (`api/config.ts`), which has no Kafka settings: these, and `HTTP_PORT` (it serves the API",
      "too; default `8080`), `LOG_LEVEL`, `LOG_FORMAT`, `SUMMARY_INTERVAL_S` and `SHUTDOWN_TIMEOUT_S` as",
      "above.",
    ].join("\n"),
    markdownTable(Object.entries(API_SETTINGS).map(([name, setting]) => row(name, setting, "api"))),
  ].join("\n\n");
  return replaceBetween(current, README_BEGIN, README_END, `\n\n${body}\n\n`);
}

function sharedRow(name: string): string[] {
  const [producer, consumer] = SERVICES.map((s) => SERVICE_SETTINGS[s][name]);
  const cells = row(name, consumer, "*");
  const [p, c] = [defaultText(producer), defaultText(consumer)];
  if (p !== c) cells[1] = `consumer ${c}, producer ${p}`;
  return cells;
}

function row(name: string, setting: Setting, service: string): string[] {
  return [
    `\`${name}\``,
    defaultText(setting),
    acceptedText(setting),
    setting.chart ?? `\`${service}.env\``,
    setting.description,
  ];
}

function markdownTable(rows: string[][]): string {
  const all = [["variable", "default", "accepts", "chart", "meaning"], ...rows];
  const widths = all[0].map((_, i) => Math.max(3, ...all.map((r) => [...r[i]].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat(widths[i] - [...c].length)).join(" | ")} |`;
  return [line(all[0]), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The settings a user sets in `<service>.env`: those the chart does not set itself. */
export function chartEnvSettings(service: ChartService): [string, Setting][] {
  return Object.entries(SERVICE_SETTINGS[service]).filter(([, s]) => s.chart === undefined);
}

/** values.schema.json with each service's `env` schema rewritten from the tables. */
export function valuesSchemaText(current: string): string {
  const schema = JSON.parse(current);
  for (const service of CHART_SERVICES) {
    const chartSet = Object.entries(SERVICE_SETTINGS[service]).filter(([, s]) => s.chart);
    schema.properties[service].properties.env = {
      type: "object",
      description: `Settings of the ${service} (README.md, Configuration); the others ` +
        `(${chartSet.map(([name]) => name).join(", ")}) the chart sets from other values, ` +
        "or take them in extraEnv",
      properties: Object.fromEntries(
        chartEnvSettings(service).map(([name, s]) => [name, settingJsonSchema(s)]),
      ),
      additionalProperties: false,
    };
  }
  return JSON.stringify(schema, null, 2) + "\n";
}

const YAML_BEGIN = "# settings:begin (written by `deno task settings`: edit the tables)";
const YAML_END = "# settings:end";

/** values.yaml with each service's `env` defaults rewritten between the markers. */
export function valuesYamlText(current: string): string {
  let text = current;
  for (const service of CHART_SERVICES) {
    const begin = text.indexOf(`${YAML_BEGIN} ${service}`);
    if (begin < 0) throw new Error(`values.yaml has no "${YAML_BEGIN} ${service}" line`);
    const indent = text.slice(text.lastIndexOf("\n", begin) + 1, begin);
    const lines: string[] = [];
    const optional: string[] = [];
    for (const [name, setting] of chartEnvSettings(service)) {
      const accepted = acceptedText(setting).replaceAll("`", "");
      if (!("default" in setting) || setting.default === undefined) {
        optional.push(`${name} (${accepted}; unset: ${defaultText(setting).replaceAll("`", "")})`);
        continue;
      }
      const rule = setting.type === "choice"
        ? `One of ${accepted}.`
        : `${accepted[0].toUpperCase()}${accepted.slice(1)}.`;
      lines.push(...wrapComment(`-- ${setting.description} ${rule}`, indent));
      // Helm reads values.yaml as YAML 1.1, where a bare off, on or yes is a boolean: quote them.
      lines.push(`${indent}${name}: ${stringify(setting.default, { version: "1.1" }).trim()}`);
    }
    if (optional.length > 0) {
      lines.unshift(
        ...wrapComment(`Also accepted, unset by default: ${optional.join(", ")}.`, indent),
      );
    }
    const end = text.indexOf(`${indent}${YAML_END} ${service}`, begin);
    if (end < 0) throw new Error(`values.yaml has no "${YAML_END} ${service}" line`);
    const first = text.indexOf("\n", begin) + 1;
    text = text.slice(0, first) + lines.map((l) => `${l}\n`).join("") + text.slice(end);
  }
  return text;
}

function wrapComment(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let line = `${indent}#`;
  for (const word of text.split(" ")) {
    if (line.length + 1 + word.length > width && line.trim() !== "#") {
      lines.push(line);
      line = `${indent}#`;
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** charts/templates/_settings.tpl: the services' defaults of their `env` values, as JSON. */
export function settingsTplText(): string {
  const defaults = Object.fromEntries(CHART_SERVICES.map((service) => [
    service,
    Object.fromEntries(
      chartEnvSettings(service).flatMap(([name, s]) =>
        "default" in s && s.default !== undefined ? [[name, s.default]] : []
      ),
    ),
  ]));
  return [
    "{{/*",
    "Written by `deno task settings` from the settings tables (shared/service_settings.ts,",
    "consumer/config.ts, producer/config.ts, api/config.ts): do not edit. The defaults the",
    "services apply to the variables of `<service>.env`, for the checks of _validate.tpl when a",
    "value is removed",
    '(`--set consumer.env.SHUTDOWN_TIMEOUT_S=null`). Use: include "iot.settingDefaults" . | fromJson',
    "*/}}",
    '{{- define "iot.settingDefaults" -}}',
    JSON.stringify(defaults),
    "{{- end }}",
    "",
  ].join("\n");
}

function replaceBetween(text: string, begin: string, end: string, body: string): string {
  const start = text.indexOf(begin);
  const stop = text.indexOf(end, start);
  if (start < 0 || stop < 0) throw new Error(`markers not found: ${begin} ... ${end}`);
  return text.slice(0, start + begin.length) + body + text.slice(stop);
}

if (import.meta.main) {
  for (const { file, make } of GENERATED) {
    const current = await Deno.readTextFile(file).catch(() => "");
    await Deno.writeTextFile(file, make(current));
    console.log(`wrote ${file.pathname}`);
  }
}
