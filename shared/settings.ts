/**
 * Settings tables: each environment variable a service reads, its type, default, bounds and
 * meaning, written once.
 *
 * A service's table drives its settings reader ({@linkcode readSettings}), the README's settings
 * tables and the `env` part of the chart's values.schema.json ({@linkcode settingJsonSchema}):
 * `deno task settings` writes the last two, and charts/settings_file_test.ts fails when they drift.
 *
 * @module
 */

import { type EnvReader, notBlank, pemCertificate, type ReadTextFile } from "./env.ts";

/** What every row says besides its type. */
export interface SettingBase {
  /** One line for people: the README and the chart's schema. */
  description: string;
  /**
   * Where the chart takes the value from when it sets the variable itself (`topic.name`, say);
   * absent when a user sets it in `<service>.env`.
   */
  chart?: string;
  /** The default in words when there is no fixed one ("random, logged"). */
  defaultText?: string;
  /** What is accepted, in words, when the type does not say it ("a postgres:// URL"). */
  accepts?: string;
}

/** A whole number within bounds. */
export interface IntegerSetting extends SettingBase {
  /** Kind of value. */
  type: "integer";
  /** Used when the variable is unset or blank; absent: the value is optional. */
  default?: number;
  /** Smallest accepted value. */
  min: number;
  /** Largest accepted value; absent: no bound. */
  max?: number;
}

/** A number within bounds. */
export interface NumberSetting extends SettingBase {
  /** Kind of value. */
  type: "number";
  /** Used when the variable is unset or blank. */
  default?: number;
  /** Smallest accepted value. */
  min: number;
  /** Largest accepted value; absent: no bound. */
  max?: number;
}

/** One of a fixed list of words, exact case. */
export interface ChoiceSetting<T extends string = string> extends SettingBase {
  /** Kind of value. */
  type: "choice";
  /** Accepted values, in the order messages list them. */
  values: readonly T[];
  /** Used when the variable is unset or blank. */
  default?: T;
}

/** Free text, optionally checked. */
export interface StringSetting extends SettingBase {
  /** Kind of value. */
  type: "string";
  /** Used when the variable is unset or blank. */
  default?: string;
  /** A regular expression the chart's schema checks too (the reader uses `check`). */
  pattern?: string;
  /** Returns the problem with a value, or `undefined`. */
  check?: (value: string) => string | undefined;
}

/** A comma-separated list of `host:port`. */
export interface BrokersSetting extends SettingBase {
  /** Kind of value. */
  type: "brokers";
  /** Used when the variable is unset or blank. */
  default: string;
}

/** The path of a file the service reads, checked at start. */
export interface FileSetting extends SettingBase {
  /** Kind of value. */
  type: "file";
  /** What the file must hold. */
  holds: "PEM certificates" | "a password";
}

/** One row of a settings table. */
export type Setting =
  | IntegerSetting
  | NumberSetting
  | ChoiceSetting
  | StringSetting
  | BrokersSetting
  | FileSetting;

/** A service's settings, by variable name, in the order they are read and documented. */
export type SettingsTable = Readonly<Record<string, Setting>>;

/** The type a row reads as. */
export type SettingValue<S extends Setting> = S extends IntegerSetting | NumberSetting ? number
  : S extends BrokersSetting ? string[]
  : S extends ChoiceSetting<infer T> ? T
  : string;

/** What a table reads as: a row with a default always has a value, the others may not. */
export type SettingValues<T extends SettingsTable> = {
  [K in keyof T]: T[K] extends { default: unknown } ? SettingValue<T[K]>
    : SettingValue<T[K]> | undefined;
};

/** The file check of a {@linkcode FileSetting}. */
export const FILE_CHECKS: Readonly<
  Record<FileSetting["holds"], (text: string) => string | undefined>
> = {
  "PEM certificates": pemCertificate,
  "a password": notBlank,
};

/**
 * Reads every row of `table`, in order; problems are added to `read` (each names the variable
 * and the value), so {@linkcode EnvReader.done} reports them with all the others.
 *
 * @param read The service's settings reader.
 * @param table The rows to read.
 * @param readFile Reads the files {@linkcode FileSetting} rows name.
 * @returns The values by variable name; `undefined` for an unset row without a default.
 */
export function readSettings<T extends SettingsTable>(
  read: EnvReader,
  table: T,
  readFile: ReadTextFile = Deno.readTextFileSync,
): SettingValues<T> {
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(table)) {
    values[name] = readSetting(read, name, setting, readFile);
  }
  return values as SettingValues<T>;
}

function readSetting(
  read: EnvReader,
  name: string,
  setting: Setting,
  readFile: ReadTextFile,
): unknown {
  if (read.raw(name) === undefined && !("default" in setting && setting.default !== undefined)) {
    return undefined;
  }
  switch (setting.type) {
    case "integer":
    case "number":
      // Without a default the variable is set here; on a problem done() throws, so the
      // fallback is never seen.
      return read.number(name, setting.default ?? 0, {
        min: setting.min,
        max: setting.max,
        integer: setting.type === "integer",
      });
    case "choice":
      return read.choice(name, setting.default ?? setting.values[0], setting.values);
    case "string":
      return read.string(name, setting.default ?? "", setting.check);
    case "brokers":
      return read.brokers(name, setting.default);
    case "file": {
      const path = read.raw(name)!;
      read.checkFile(name, path, FILE_CHECKS[setting.holds], readFile);
      return path;
    }
  }
}

/**
 * The JSON Schema (draft 7, as Helm checks values) of a value in the chart's `<service>.env`.
 * Numbers are YAML numbers there (the chart quotes them), so Helm itself names a value out of
 * bounds.
 *
 * @param setting The row.
 * @returns A plain JSON-serializable object.
 */
export function settingJsonSchema(setting: Setting): Record<string, unknown> {
  const schema: Record<string, unknown> = { description: setting.description };
  switch (setting.type) {
    case "integer":
    case "number":
      schema.type = setting.type;
      schema.minimum = setting.min;
      if (setting.max !== undefined) schema.maximum = setting.max;
      break;
    case "choice":
      schema.type = "string";
      schema.enum = [...setting.values];
      break;
    case "string":
      schema.type = "string";
      if (setting.pattern !== undefined) schema.pattern = setting.pattern;
      break;
    case "brokers":
    case "file":
      schema.type = "string";
      schema.minLength = 1;
      break;
  }
  if ("default" in setting && setting.default !== undefined) schema.default = setting.default;
  return schema;
}

/**
 * What a row accepts, in words, for the README: "integer, 1 to 64", "`debug`, `info`", ...
 *
 * @param setting The row.
 */
export function acceptedText(setting: Setting): string {
  if (setting.accepts !== undefined) return setting.accepts;
  switch (setting.type) {
    case "integer":
    case "number": {
      const kind = setting.type === "integer" ? "integer" : "number";
      return setting.max === undefined
        ? `${kind}, at least ${setting.min}`
        : `${kind}, ${setting.min} to ${setting.max}`;
    }
    case "choice":
      return setting.values.map((v) => `\`${v}\``).join(", ");
    case "string":
      return setting.pattern === undefined ? "text" : `text matching \`${setting.pattern}\``;
    case "brokers":
      return "comma-separated `host:port`";
    case "file":
      return `file holding ${setting.holds}`;
  }
}

/**
 * The default of a row in words: the value in backticks, its `defaultText`, or "—".
 *
 * @param setting The row.
 */
export function defaultText(setting: Setting): string {
  if ("default" in setting && setting.default !== undefined) return `\`${setting.default}\``;
  return setting.defaultText ?? "—";
}
