import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on a fixed local port, between the app and the real PostgreSQL. A test can make
 * the server unreachable (`stop`: nothing listening, connections cut) and reachable again at the
 * same host:port, or partition the network (`hold`: connections stay open but nothing gets
 * through, as when a cable or a route goes away) without touching the real server.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** While held, what would have been sent waits here, in order (TCP retransmits; nothing is lost). */
  private held: Array<() => void> | null = null;

  constructor(
    readonly port: number,
    private readonly targetPort: number,
    /** Added to every chunk each way: stretches a setup's phases so a test can act in the middle of one. */
    private readonly delayMs = 0,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      this.forward(client, upstream);
      this.forward(upstream, client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Stops listening and cuts every open connection, like a server that went away. */
  async stop(): Promise<void> {
    this.held = null;
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A network partition: connections stay open, new ones are accepted, but no byte gets through. */
  hold(): void {
    this.held ??= [];
  }

  /** Ends the partition: what waited is delivered in order, then traffic flows again. */
  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const send of waiting) send();
  }

  private forward(from: Socket, to: Socket): void {
    const pass = (action: () => void) => {
      if (this.held) this.held.push(action);
      else if (this.delayMs > 0) setTimeout(action, this.delayMs);
      else action();
    };
    from.on('data', (chunk) => pass(() => to.writable && to.write(chunk)));
    // A side that goes away (a killed process) must take the other side with it, as pipe() does.
    from.on('end', () => pass(() => to.end()));
    from.on('close', () => {
      if (!from.readableEnded) pass(() => to.destroy());
    });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
