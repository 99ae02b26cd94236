import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` used here. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Line {
  name: string;
  /** Microseconds over the profile. */
  us: number;
  /** Share of busy (non-idle) time. */
  share: number;
  /** Microseconds per request, when the request count is known. */
  usPerRequest: number | null;
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  idleMs: number;
  requests: number | null;
  busyUsPerRequest: number | null;
  selfByCategory: Line[];
  selfByFunction: Line[];
  inclusiveByFunction: Line[];
  inclusiveByCategory: Line[];
}

const ROOT = process.cwd();

/** Groups a script URL: a package, a node core module, or a project file. */
export function categoryOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url.replace(/^node:internal\//, 'node:').split('/').slice(0, 2).join('/');
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `pkg:${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path;
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return functionName || '(anonymous)';
  return `${functionName || '(anonymous)'} ${categoryOf(url, functionName).replace(/^pkg:/, '')}:${lineNumber + 1}`;
}

/**
 * Summarises a CPU profile: self time by function and by category (package / file), and
 * inclusive time (each function counted once per sample stack), optionally per request.
 */
export function summarizeProfile(file: string, requests: number | null, top = 30): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const c of node.children ?? []) parent.set(c, node.id);
  }
  const selfFn = new Map<string, number>();
  const selfCat = new Map<string, number>();
  const inclFn = new Map<string, number>();
  const inclCat = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(profile.samples[i]!)!;
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    const name = frameName(node);
    selfFn.set(name, (selfFn.get(name) ?? 0) + dt);
    const cat = categoryOf(node.callFrame.url, node.callFrame.functionName);
    selfCat.set(cat, (selfCat.get(cat) ?? 0) + dt);
    const seenFn = new Set<string>();
    const seenCat = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(root)') break;
      const fn = frameName(n);
      if (!seenFn.has(fn)) {
        seenFn.add(fn);
        inclFn.set(fn, (inclFn.get(fn) ?? 0) + dt);
      }
      const c = categoryOf(n.callFrame.url, n.callFrame.functionName);
      if (!seenCat.has(c)) {
        seenCat.add(c);
        inclCat.set(c, (inclCat.get(c) ?? 0) + dt);
      }
    }
  }
  const busy = total - idle;
  const lines = (m: Map<string, number>, n: number): Line[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, us, share: busy > 0 ? us / busy : 0, usPerRequest: requests ? us / requests : null }));
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    requests,
    busyUsPerRequest: requests ? busy / requests : null,
    selfByCategory: lines(selfCat, top),
    selfByFunction: lines(selfFn, top),
    inclusiveByFunction: lines(inclFn, top * 2),
    inclusiveByCategory: lines(inclCat, top),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const out: string[] = [];
  out.push(
    `profile: ${s.totalMs.toFixed(0)} ms sampled, busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms` +
      (s.requests ? `; ${s.requests} requests → ${s.busyUsPerRequest!.toFixed(1)} µs busy CPU per request` : ''),
  );
  const table = (title: string, lines: Line[]) => {
    out.push('', title, `${'share'.padStart(7)}  ${'µs/req'.padStart(8)}  name`);
    for (const l of lines) out.push(`${(l.share * 100).toFixed(1).padStart(6)}%  ${(l.usPerRequest ?? 0).toFixed(1).padStart(8)}  ${l.name}`);
  };
  table('self time by category (package / node module / project file):', s.selfByCategory);
  table('inclusive time by category:', s.inclusiveByCategory);
  table('self time by function:', s.selfByFunction);
  table('inclusive time by function:', s.inclusiveByFunction);
  return out.join('\n');
}
