/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). Enough for this pipeline; no dependency.
 *
 * @module
 */

/** Label names to values. */
export type Labels = Record<string, string>;

interface Metric {
  render(): string;
}

/** A monotonically increasing count. */
export class Counter implements Metric {
  readonly #values = new Map<string, number>();

  /**
   * @param name Metric name.
   * @param help One line of help.
   * @param labelled Whether every series has labels; a counter without labels shows `0` from the
   *   start, so `rate()` sees its first event.
   */
  constructor(readonly name: string, readonly help: string, labelled = false) {
    if (!labelled) this.#values.set("", 0);
  }

  /** Adds `by` (default 1, never negative: counters only grow) to the series of `labels`. */
  inc(by = 1, labels: Labels = {}): void {
    if (!(by >= 0)) throw new RangeError(`Counter ${this.name} cannot grow by ${by}`);
    const key = labelText(labels);
    this.#values.set(key, (this.#values.get(key) ?? 0) + by);
  }

  /** The current value of a series. */
  value(labels: Labels = {}): number {
    return this.#values.get(labelText(labels)) ?? 0;
  }

  /** Sum over all series. */
  total(): number {
    return sum(this.#values);
  }

  /** Text exposition of this metric. */
  render(): string {
    return header(this.name, this.help, "counter") + series(this.name, this.#values);
  }
}

/** A value that goes up and down. */
export class Gauge implements Metric {
  readonly #values = new Map<string, number>();

  /** @param name Metric name. @param help One line of help. */
  constructor(readonly name: string, readonly help: string) {}

  /** Sets the series of `labels` to `value`. */
  set(value: number, labels: Labels = {}): void {
    this.#values.set(labelText(labels), value);
  }

  /** Forgets every series (e.g. partitions no longer assigned). */
  clear(): void {
    this.#values.clear();
  }

  /** The current value of a series. */
  value(labels: Labels = {}): number {
    return this.#values.get(labelText(labels)) ?? 0;
  }

  /** Sum over all series. */
  total(): number {
    return sum(this.#values);
  }

  /** Text exposition of this metric. */
  render(): string {
    return header(this.name, this.help, "gauge") + series(this.name, this.#values);
  }
}

/** Observations counted into cumulative buckets, as Prometheus histograms are. */
export class Histogram implements Metric {
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /**
   * @param name Metric name.
   * @param help One line of help.
   * @param buckets Upper bounds, ascending.
   */
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.#counts = buckets.map(() => 0);
  }

  /** Records one observation. */
  observe(value: number): void {
    this.#sum += value;
    this.#count += 1;
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) this.#counts[i]++;
  }

  /** Number of observations. */
  count(): number {
    return this.#count;
  }

  /** Text exposition of this metric. */
  render(): string {
    let out = header(this.name, this.help, "histogram");
    this.buckets.forEach((bound, i) => {
      out += `${this.name}_bucket{le="${bound}"} ${this.#counts[i]}\n`;
    });
    out += `${this.name}_bucket{le="+Inf"} ${this.#count}\n`;
    out += `${this.name}_sum ${this.#sum}\n${this.name}_count ${this.#count}\n`;
    return out;
  }
}

/** A set of metrics rendered together. */
export class Registry {
  readonly #metrics: Metric[] = [];

  /** Registers and returns a counter; `labelled` when its series carry labels. */
  counter(name: string, help: string, labelled = false): Counter {
    return this.#add(new Counter(name, help, labelled));
  }

  /** Registers and returns a gauge. */
  gauge(name: string, help: string): Gauge {
    return this.#add(new Gauge(name, help));
  }

  /** Registers and returns a histogram. */
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, buckets));
  }

  /** The text exposition of every metric. */
  render(): string {
    return this.#metrics.map((m) => m.render()).join("");
  }

  #add<T extends Metric>(metric: T): T {
    this.#metrics.push(metric);
    return metric;
  }
}

function sum(values: Map<string, number>): number {
  let total = 0;
  for (const v of values.values()) total += v;
  return total;
}

function header(name: string, help: string, type: string): string {
  const escaped = help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
  return `# HELP ${name} ${escaped}\n# TYPE ${name} ${type}\n`;
}

function series(name: string, values: Map<string, number>): string {
  let out = "";
  for (const [labels, value] of values) out += `${name}${labels} ${value}\n`;
  return out;
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  const parts = keys.sort().map((k) => `${k}="${escapeLabel(labels[k])}"`);
  return `{${parts.join(",")}}`;
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}
