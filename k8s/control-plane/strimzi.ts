/**
 * A stand-in for the Strimzi operators' one effect the services' pods wait for: the Secrets they
 * mount. No Strimzi operator runs in the test control plane (its image cannot run here), so for
 * every `Kafka` this makes `<name>-cluster-ca-cert` (key `ca.crt`: the test CA, a placeholder
 * certificate) and for every `KafkaUser` a Secret of the same name (key `password`: random), as
 * the cluster and user operators would. The kubelet stand-in keeps a pod waiting until every
 * Secret it mounts exists, so without this the services never become ready.
 *
 * @module
 */

/** What the stand-in needs. */
export interface StrimziStandInOptions {
  /** `https://127.0.0.1:6443`. */
  server: string;
  /** An HTTP client with administrator credentials. */
  client: Deno.HttpClient;
  /** The namespace to watch. */
  namespace: string;
  /** PEM of the certificate to publish as the cluster CA. */
  caPem: string;
}

const POLL_MS = 500;

/** Polls the namespace's Kafkas and KafkaUsers and makes their Secrets. */
export class StrimziSecretsStandIn {
  /** Secrets it made, in order. */
  readonly made: string[] = [];
  #stopped = false;
  #loop?: Promise<void>;
  #errors: string[] = [];

  constructor(private readonly options: StrimziStandInOptions) {}

  /** Starts polling. */
  start(): void {
    this.#loop = (async () => {
      while (!this.#stopped) {
        await this.#once().catch((error) => this.#errors.push(String(error)));
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
  }

  /** Stops polling; returns the errors met. */
  async stop(): Promise<string[]> {
    this.#stopped = true;
    await this.#loop;
    return this.#errors;
  }

  async #once(): Promise<void> {
    const ns = this.options.namespace;
    const kafkas = await this.#names(`/apis/kafka.strimzi.io/v1/namespaces/${ns}/kafkas`);
    const users = await this.#names(`/apis/kafka.strimzi.io/v1/namespaces/${ns}/kafkausers`);
    for (const name of kafkas) {
      await this.#ensure(`${name}-cluster-ca-cert`, { "ca.crt": this.options.caPem });
    }
    for (const name of users) {
      await this.#ensure(name, { password: crypto.randomUUID() });
    }
  }

  async #names(path: string): Promise<string[]> {
    const response = await this.#api("GET", path);
    if (response.status === 404) {
      await response.body?.cancel();
      return []; // CRD not there yet
    }
    const list = await response.json();
    return (list.items ?? []).map((o: { metadata: { name: string } }) => o.metadata.name);
  }

  async #ensure(name: string, data: Record<string, string>): Promise<void> {
    const ns = this.options.namespace;
    const body = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: ns, labels: { "iot.test/stand-in-for": "strimzi" } },
      stringData: data,
    };
    const response = await this.#api("POST", `/api/v1/namespaces/${ns}/secrets`, body);
    await response.body?.cancel();
    if (response.status === 201) this.made.push(name);
    else if (response.status !== 409) {
      throw new Error(`creating Secret ${name}: ${response.status}`);
    }
  }

  #api(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.options.server}${path}`, {
      method,
      client: this.options.client,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}
