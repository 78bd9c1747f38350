/**
 * The monitoring kit in deploy/: promtool checks and unit-tests the alert rules; every metric the
 * Grafana dashboard and the alert rules query is exported by a lab daemon; the compose profile
 * `monitoring` mounts files that exist and the dashboard uses the provisioned data source.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ensurePromtool } from '../lab/install.js';
import { repoRoot } from '../lab/paths.js';
import {
  type TestDaemon,
  createSatsPayment,
  startTestDaemon,
  stopTestDaemon,
} from '../support/daemon.js';
import { parseExposition } from '../support/prometheus.js';

const run = promisify(execFile);
const deploy = (...parts: string[]) => path.join(repoRoot, 'deploy', ...parts);

interface AlertRules {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

interface ComposeFile {
  services: Record<string, { profiles?: string[]; volumes?: string[] }>;
}

const alertRules = () =>
  parseYaml(readFileSync(deploy('prometheus', 'alerts.yml'), 'utf8')) as AlertRules;
const dashboard = () =>
  JSON.parse(readFileSync(deploy('grafana', 'dashboards', 'satwatch.json'), 'utf8')) as {
    uid: string;
    panels: Panel[];
  };

/** The satwatch_* metric names a PromQL expression reads (functions and labels never match). */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set(withoutStrings.match(/\bsatwatch_[a-zA-Z0-9_:]*/g) ?? [])];
}

function queried(): Map<string, string> {
  const where = new Map<string, string>();
  for (const group of alertRules().groups)
    for (const rule of group.rules)
      for (const name of metricNames(rule.expr)) where.set(name, `alert ${rule.alert ?? ''}`);
  for (const panel of dashboard().panels)
    for (const target of panel.targets ?? [])
      for (const name of metricNames(target.expr)) where.set(name, `panel "${panel.title}"`);
  return where;
}

describe('the alert rules', () => {
  let promtool: string;
  beforeAll(() => {
    promtool = ensurePromtool();
  });

  it('pass promtool check rules and check config', async () => {
    const rules = await run(promtool, ['check', 'rules', deploy('prometheus', 'alerts.yml')]);
    expect(rules.stdout).toMatch(/SUCCESS: \d+ rules found/);
    const config = await run(promtool, ['check', 'config', deploy('prometheus', 'prometheus.yml')]);
    expect(config.stdout).toContain('is valid prometheus config file syntax');
  });

  it('fire and clear as their unit tests expect (promtool test rules)', async () => {
    const tests = await run(promtool, ['test', 'rules', deploy('prometheus', 'alerts.test.yml')]);
    expect(tests.stdout).toContain('SUCCESS');
  });

  it('cover every condition the operator asked for', () => {
    const names = alertRules().groups.flatMap((g) => g.rules.map((r) => r.alert));
    expect(names).toEqual(
      expect.arrayContaining([
        'SatwatchWatcherNotLeading',
        'SatwatchWatcherCyclesFailing',
        'SatwatchWatcherOverrunning',
        'SatwatchChainBudgetNearLimit',
        'SatwatchWebhooksFailing',
        'SatwatchSweepsStuck',
        'SatwatchHotBalanceHigh',
        'SatwatchReconcileMismatch',
      ]),
    );
  });
});

describe('the metrics the dashboard and the alerts query', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon({}, { metricsCacheMs: 0 });
    // One request and one cycle, so labelled series (HTTP routes, chain endpoints) exist.
    await createSatsPayment(d, 'monitoring', 20_000, 1);
    await d.watcher.runCycle();
  });
  afterAll(() => stopTestDaemon(d));

  it('finds names in PromQL without taking functions, labels or strings for metrics', () => {
    expect(
      metricNames(
        'histogram_quantile(0.9, sum by (le) (rate(satwatch_a_bucket{route="satwatch_no"}[5m]))) / max(satwatch_b)',
      ),
    ).toEqual(['satwatch_a_bucket', 'satwatch_b']);
  });

  it('are all exported by a lab daemon (but for the few other branches add)', async () => {
    const res = await d.ops.inject({ method: 'GET', url: '/metrics' });
    const exposition = parseExposition(res.body);
    // A labelled family with no series yet (no chain failure so far) still declares its TYPE.
    const exported = new Set(exposition.samples.map((s) => s.name));
    for (const [family, type] of exposition.types) {
      exported.add(family);
      if (type === 'histogram')
        for (const part of ['_bucket', '_sum', '_count']) exported.add(family + part);
    }
    const wanted = queried();
    expect(wanted.size).toBeGreaterThan(25);
    const missing = [...wanted]
      .filter(([name]) => !exported.has(name))
      .map(([name, where]) => `${name} (${where})`);
    expect(missing).toEqual([]);
  });
});

describe('the monitoring compose profile', () => {
  const compose = () =>
    parseYaml(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as ComposeFile;

  it('starts Prometheus and Grafana only with --profile monitoring, from files that exist', () => {
    const { services } = compose();
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.grafana?.profiles).toEqual(['monitoring']);
    expect(services.satwatch?.profiles).toBeUndefined();
    for (const service of [services.prometheus, services.grafana]) {
      for (const volume of service?.volumes ?? []) {
        const [source] = volume.split(':');
        if (source?.startsWith('./')) expect(existsSync(path.join(repoRoot, source))).toBe(true);
      }
    }
    const scrape = readFileSync(deploy('prometheus', 'prometheus.yml'), 'utf8');
    // /metrics is served by the ops listener, not the public API.
    expect(scrape).toContain("targets: ['satwatch:9464']");
  });

  it('provisions the data source every dashboard panel uses', () => {
    const provisioned = parseYaml(
      readFileSync(deploy('grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'),
    ) as { datasources: { uid: string; url: string }[] };
    const uids = new Set(provisioned.datasources.map((s) => s.uid));
    for (const panel of dashboard().panels.filter((p) => p.type !== 'row')) {
      expect(uids.has(panel.datasource?.uid ?? ''), panel.title).toBe(true);
      for (const target of panel.targets ?? [])
        expect(uids.has(target.datasource?.uid ?? ''), panel.title).toBe(true);
    }
  });
});
