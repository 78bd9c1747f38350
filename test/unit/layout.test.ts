/**
 * Holds the code to README's layout table: each room imports only the rooms its row lists,
 * `mongodb` only under src/storage/, no import cycles, no source file over 450 lines.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const MAX_LINES = 450;

interface SourceFile {
  file: string;
  lines: number;
  /** Project files it imports (relative imports, resolved). */
  imports: string[];
  /** Packages it imports. */
  packages: string[];
}

function sourceFiles(dir = 'src'): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.posix.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function read(file: string): SourceFile {
  const text = readFileSync(file, 'utf8');
  const specifiers = [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s+'([^']+)'/g),
  ].map((m) => m[1] ?? '');
  const resolve = (s: string) =>
    path.posix.normalize(path.posix.join(path.posix.dirname(file), s)).replace(/\.js$/, '.ts');
  return {
    file,
    lines: text.split('\n').length,
    imports: specifiers.filter((s) => s.startsWith('.')).map(resolve),
    packages: specifiers.filter((s) => !s.startsWith('.')),
  };
}

interface Room {
  paths: string[];
  mayImport: string[] | 'anything';
}

/** The rows of README's layout table: `room | what lives there | may import`. */
function layoutRooms(): Room[] {
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.slice(readme.indexOf('## Layout'));
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `src/'))
    .map((line) => line.split('|').map((cell) => cell.trim()));
  return rows.map((cells) => {
    const paths = [...(cells[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
    const allowed = cells[3] ?? '';
    return {
      paths,
      mayImport:
        allowed === 'anything'
          ? 'anything'
          : allowed === '—'
            ? []
            : allowed.split(',').map((name) => `src/${name.trim()}`),
    };
  });
}

/** The room a file lives in: the longest row path it falls under (`src/forwarding/tx/` first). */
function roomOf(file: string, rooms: Room[]): string | undefined {
  const paths = rooms.flatMap((room) => room.paths).sort((a, b) => b.length - a.length);
  return paths.find((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));
}

const files = sourceFiles().map(read);
const rooms = layoutRooms();

describe('the layout README describes', () => {
  it('gives every source file a room', () => {
    expect(files.filter((f) => roomOf(f.file, rooms) === undefined).map((f) => f.file)).toEqual([]);
  });

  it('lets each room import only the rooms its row lists', () => {
    const breaches: string[] = [];
    for (const f of files) {
      const own = roomOf(f.file, rooms);
      const room = rooms.find((r) => own !== undefined && r.paths.includes(own));
      if (!room || room.mayImport === 'anything') continue;
      for (const target of f.imports) {
        const targetRoom = roomOf(target, rooms);
        if (targetRoom === own || targetRoom === undefined) continue;
        const name = targetRoom.replace(/\/$/, '').replace(/\.ts$/, '');
        if (!room.mayImport.includes(name)) breaches.push(`${f.file} -> ${target}`);
      }
    }
    expect(breaches).toEqual([]);
  });

  it('keeps the MongoDB driver under src/storage/', () => {
    const outside = files.filter(
      (f) => f.packages.some((p) => p === 'mongodb') && !f.file.startsWith('src/storage/'),
    );
    expect(outside.map((f) => f.file)).toEqual([]);
  });

  it('lets only the composition root and the command line read the configuration', () => {
    const readers = files.filter(
      (f) =>
        !f.file.startsWith('src/config/') &&
        f.imports.some((target) => target.startsWith('src/config/')),
    );
    const allowed = (file: string) =>
      file === 'src/daemon.ts' || file === 'src/main.ts' || file.startsWith('src/cli/');
    expect(readers.map((f) => f.file).filter((file) => !allowed(file))).toEqual([]);
  });

  it('has no import cycles between files', () => {
    const graph = new Map(files.map((f) => [f.file, f.imports]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it(`keeps every source file at ${MAX_LINES} lines or fewer`, () => {
    expect(files.filter((f) => f.lines > MAX_LINES).map((f) => `${f.file}: ${f.lines}`)).toEqual(
      [],
    );
  });
});
