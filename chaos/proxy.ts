/**
 * A TCP proxy between the consumers and PostgreSQL, for the faults a server cannot inject on its
 * own: every connection dropped at once mid-stream, added latency, and a black hole.
 *
 * The black hole stands for a network that drops packets instead of refusing them: no byte moves
 * either way and no socket closes, so clients see neither an answer nor an error. Bytes are held,
 * not discarded, as TCP retransmission would deliver them once the path heals.
 *
 * @module
 */

/** A running proxy. */
export class TcpProxy {
  readonly #listener: Deno.TcpListener;
  readonly #pairs = new Set<[Deno.TcpConn, Deno.TcpConn | undefined]>();
  #latencyMs = 0;
  #closed = false;
  /** Settled while bytes flow; pending while the black hole is on. */
  #flowing: Promise<void> = Promise.resolve();
  #reopen: (() => void) | undefined;
  /** Connections accepted so far. */
  accepted = 0;

  /**
   * Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:`upstreamPort`.
   *
   * @param upstreamPort The real server's port.
   */
  constructor(readonly upstreamPort: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accept();
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Delay added to every chunk in both directions from now on (0 turns it off). */
  setLatency(ms: number): void {
    this.#latencyMs = ms;
  }

  /**
   * Stops (true) or resumes (false) every byte in both directions, on open and new connections,
   * without closing anything.
   */
  setBlackHole(on: boolean): void {
    if (on && this.#reopen === undefined) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#flowing = promise;
      this.#reopen = resolve;
    } else if (!on && this.#reopen !== undefined) {
      this.#reopen();
      this.#reopen = undefined;
      this.#flowing = Promise.resolve();
    }
  }

  /** Whether the black hole is on. */
  get blackHoled(): boolean {
    return this.#reopen !== undefined;
  }

  /** Closes every open connection at once, both ways, as a network fault would. */
  dropAll(): number {
    const n = this.#pairs.size;
    for (const pair of this.#pairs) this.#close(pair);
    return n;
  }

  /** Stops listening and drops everything. */
  close(): void {
    this.#closed = true;
    this.setBlackHole(false);
    this.dropAll();
    try {
      this.#listener.close();
    } catch { /* already closed */ }
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        return; // listener closed
      }
      this.accepted++;
      this.#serve(client);
    }
  }

  async #serve(client: Deno.TcpConn): Promise<void> {
    const pair: [Deno.TcpConn, Deno.TcpConn | undefined] = [client, undefined];
    this.#pairs.add(pair);
    try {
      // While black-holed, a new connection opens (the kernel accepts it) but nothing answers.
      await this.#flowing;
      pair[1] = await Deno.connect({ hostname: "127.0.0.1", port: this.upstreamPort });
      if (!this.#pairs.has(pair)) throw new Error("dropped while connecting");
      client.setNoDelay(true);
      pair[1].setNoDelay(true);
      await Promise.race([this.#pipe(client, pair[1]), this.#pipe(pair[1], client)]);
    } catch {
      // Upstream down or the connection was dropped: the client sees its socket close.
    } finally {
      this.#close(pair);
    }
  }

  async #pipe(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      await this.#flowing;
      const n = await from.read(buffer);
      if (n === null) return;
      if (this.#latencyMs > 0 && !this.#closed) {
        await new Promise((r) => setTimeout(r, this.#latencyMs));
      }
      // Bytes read just as the black hole opened are held too.
      await this.#flowing;
      let done = 0;
      while (done < n) done += await to.write(buffer.subarray(done, n));
    }
  }

  #close(pair: [Deno.TcpConn, Deno.TcpConn | undefined]): void {
    if (!this.#pairs.delete(pair)) return;
    for (const conn of pair) {
      try {
        conn?.close();
      } catch { /* already closed */ }
    }
  }
}
