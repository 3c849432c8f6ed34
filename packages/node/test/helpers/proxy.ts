/**
 * A TCP proxy on 127.0.0.1 that a test can cut: a link between two real
 * nodes that fails the way a partition does (every connection destroyed,
 * new ones closed at once), and heals.
 */
import { type Server, type Socket, createServer as createNetServer, connect } from 'node:net';

/** A TCP proxy to 127.0.0.1:`target` that can be cut (every connection destroyed, new ones refused). */
export class Cuttable {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** While true, new connections are closed at once (set false to heal). */
  cut = false;
  /** While true, requests reach the target but its answers are dropped (answers lost on the way back). */
  muted = false;
  port = 0;
  constructor(readonly target: number) {
    this.#server = createNetServer((client) => {
      if (this.cut) return void client.destroy();
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.on('data', (d: Buffer) => {
        if (!this.muted) client.write(d);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }
  async listen(): Promise<this> {
    await new Promise<void>((done) => this.#server.listen(0, '127.0.0.1', () => done()));
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }
  /** Cuts the link: every open connection is destroyed, new ones are refused. */
  block(): void {
    this.cut = true;
    for (const s of this.#sockets) s.destroy();
  }
  /** Drops every answer from now on; requests still reach the target. */
  mute(): void {
    this.muted = true;
  }
  /** Answers flow again; the connections whose answers were dropped are closed (their HTTP streams are broken). */
  unmute(): void {
    for (const s of this.#sockets) s.destroy();
    this.muted = false;
  }
  async close(): Promise<void> {
    this.block();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }
}

