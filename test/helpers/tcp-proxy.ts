import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP forwarder on a fixed local port: lets a test make PostgreSQL unreachable (nothing
 * listening) and reachable again at the same host:port, without touching the real server.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

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
      if (this.delayMs === 0) {
        client.pipe(upstream).pipe(client);
        return;
      }
      // Same delay for every chunk, so order is kept.
      const forward = (from: Socket, to: Socket) => {
        from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), this.delayMs));
        // A side that goes away (a killed process) must take the other side with it, as pipe() does.
        from.on('close', () => setTimeout(() => to.destroy(), this.delayMs));
      };
      forward(client, upstream);
      forward(upstream, client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  /** Stops listening and cuts every open connection, like a server that went away. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
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
