/**
 * Which methods each route path answers, so a known path asked with another method is told
 * 405 with an `Allow` header (RFC 9110) instead of a 404 that suggests the path is wrong.
 */
import type { FastifyInstance } from 'fastify';

export class RouteMethods {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];

  /** Records every route `app` registers from now on (call before registering routes). */
  track(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => {
      const source = route.url
        .split('/')
        .map((part) =>
          part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      const pattern = new RegExp(`^${source}/?$`);
      const known = this.routes.find((r) => r.pattern.source === pattern.source);
      const methods = known?.methods ?? new Set<string>();
      for (const method of [route.method].flat()) methods.add(method);
      if (!known) this.routes.push({ pattern, methods });
    });
  }

  /** The methods `path` answers (empty: no such path). */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes)
      if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}
