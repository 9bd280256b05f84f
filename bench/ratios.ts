import type { ScenarioSummary, SystemSummary } from './report.js';
import type { ScenarioName } from './scenarios.js';
import type { SystemName } from './systems.js';

/**
 * The ratio lines the issues' goals are read from, each between two systems measured in the same
 * run (medians of --repeat), plus the few absolute goals. A line is printed for every scenario
 * of its families where both systems have figures.
 */

type Metric =
  | 'deliveredPerSecond'
  | 'p50'
  | 'p99'
  | 'serverCpu'
  | 'clientCpu'
  | 'kbPerConnection'
  | 'busiestMaster'
  | 'relayCeiling';

const METRIC_LABEL: Record<Metric, string> = {
  deliveredPerSecond: 'delivered/s',
  p50: 'p50',
  p99: 'p99',
  serverCpu: 'srv µs/dlv',
  clientCpu: 'cli µs/dlv',
  kbPerConnection: 'KB/conn',
  busiestMaster: 'busiest µs/pub',
  relayCeiling: 'relay ceiling',
};

/** A goal is met when the ratio is ≥ (better higher) or ≤ its target. */
const HIGHER_IS_BETTER: Record<Metric, boolean> = {
  deliveredPerSecond: true,
  p50: false,
  p99: false,
  serverCpu: false,
  clientCpu: false,
  kbPerConnection: false,
  busiestMaster: false,
  relayCeiling: true,
};

function value(summary: SystemSummary, metric: Metric): number {
  if (metric === 'kbPerConnection') return summary.kbPerConnection;
  const t = summary.traffic;
  if (!t) return Number.NaN;
  if (metric === 'serverCpu') return t.serverMicrosPerDelivery;
  if (metric === 'clientCpu') return t.clientMicrosPerDelivery;
  if (metric === 'busiestMaster') return t.relay?.busiestMicrosPerPublish ?? Number.NaN;
  if (metric === 'relayCeiling') return t.relay?.ceilingPerSecond ?? Number.NaN;
  return t[metric];
}

interface RatioSpec {
  families: ScenarioName[];
  of: SystemName;
  to: SystemName;
  metrics: Metric[];
  /** Targets of the issue's goal for this ratio, if it has one. */
  goal?: { name: string; targets: Partial<Record<Metric, number>> };
}

interface AbsoluteGoal {
  families: ScenarioName[];
  system: SystemName;
  metric: Metric;
  target: number;
  name: string;
  unit: string;
  /** Where the target comes from when it is not a same-run figure. */
  note?: string;
}

const TRAFFIC: Metric[] = ['deliveredPerSecond', 'p50', 'p99'];
const BEAT_CENTRIFUGO = 'issue 11 goal 2';

/** ChatHub in both wire modes: stock frames, and batched (the mode ChatHub's own clients use). */
const CHATHUB_MODES = ['chathub', 'chathub-batched'] as const;

const RATIOS: RatioSpec[] = [
  ...CHATHUB_MODES.flatMap((of): RatioSpec[] => [
    {
      families: ['burst'],
      of,
      to: 'centrifugo',
      metrics: [...TRAFFIC, 'serverCpu', 'kbPerConnection'],
      goal: { name: BEAT_CENTRIFUGO, targets: { deliveredPerSecond: 1, p50: 1, p99: 1 } },
    },
    // At a steady rate both deliver what is sent (see "kept up"): latency is the goal there.
    {
      families: ['rate'],
      of,
      to: 'centrifugo',
      metrics: [...TRAFFIC, 'serverCpu', 'kbPerConnection'],
      goal: { name: BEAT_CENTRIFUGO, targets: { p50: 1, p99: 1 } },
    },
    { families: ['rooms'], of, to: 'centrifugo', metrics: [...TRAFFIC, 'serverCpu'] },
  ]),
  {
    families: ['burst', 'rate', 'rooms'],
    of: 'chathub-batched',
    to: 'chathub',
    metrics: [...TRAFFIC, 'serverCpu', 'clientCpu'],
  },
  { families: ['burst', 'rate'], of: 'chathub', to: 'centrifugo-2core', metrics: TRAFFIC },
  ...(['ws', 'socketio', 'trpc-stock'] as const).map(
    (to): RatioSpec => ({
      families: ['burst', 'rate', 'rooms'],
      of: 'chathub',
      to,
      metrics: [...TRAFFIC, 'serverCpu'],
    }),
  ),
  {
    families: ['burst', 'rate'],
    of: 'chathub-trpc-client',
    to: 'chathub',
    metrics: [...TRAFFIC, 'clientCpu'],
  },
  {
    families: ['burst'],
    of: 'chathub-redis-mongo',
    to: 'chathub',
    metrics: TRAFFIC,
    goal: { name: 'issue 11 goal 1', targets: { deliveredPerSecond: 0.7 } },
  },
  { families: ['burst'], of: 'chathub-redis-sqlite', to: 'chathub', metrics: TRAFFIC },
  { families: ['twoproc'], of: 'chathub-2proc', to: 'chathub-redis-sqlite', metrics: TRAFFIC },
  { families: ['twoproc'], of: 'chathub-2proc', to: 'chathub', metrics: TRAFFIC },
  // Three masters relay the same rooms with a third of the publishes each. They share nothing, so
  // saturated they relay 3× one master; below saturation a master with fewer publishes per event
  // loop turn batches less and pays more per publish, so a machine that cannot saturate them
  // measures less (×1.8–2.0 on the 2-core development machine). ≥ 1.5× says it grows.
  ...(
    [
      ['chathub-cluster-3shards', 'chathub-cluster-1shard'],
      ['chathub-cluster-mongo-3shards', 'chathub-cluster-mongo-1shard'],
    ] as const
  ).map(
    ([of, to]): RatioSpec => ({
      families: ['cluster'],
      of,
      to,
      metrics: [...TRAFFIC, 'serverCpu', 'busiestMaster', 'relayCeiling'],
      goal: { name: 'issue 13: relay capacity grows with shards', targets: { relayCeiling: 1.5 } },
    }),
  ),
  ...CHATHUB_MODES.flatMap((of) =>
    (['ws', 'centrifugo'] as const).map(
      (to): RatioSpec => ({ families: ['memory'], of, to, metrics: ['kbPerConnection'] }),
    ),
  ),
];

const ABSOLUTE: AbsoluteGoal[] = [
  {
    families: ['memory'],
    system: 'chathub',
    metric: 'kbPerConnection',
    target: 12,
    name: 'issue 11 goal 3',
    unit: 'KB',
  },
  {
    families: ['burst'],
    system: 'chathub-redis-mongo',
    metric: 'deliveredPerSecond',
    target: 2 * 68_000,
    name: 'issue 11 goal 1',
    unit: 'delivered/s',
    note: "2× the original Go server's 68k from issue 11, not measured in this run",
  },
];

export interface RatioResult {
  scenario: string;
  of: SystemName;
  to: SystemName;
  ratios: Partial<Record<Metric, number>>;
  goal: string | null;
  targets: Partial<Record<Metric, number>>;
  /** Null without a goal; otherwise whether every target was met. */
  met: boolean | null;
}

export interface GoalResult {
  scenario: string;
  system: SystemName;
  metric: Metric;
  value: number;
  target: number;
  goal: string;
  met: boolean;
  note: string | null;
}

const meets = (metric: Metric, value: number, target: number) =>
  HIGHER_IS_BETTER[metric] ? value >= target : value <= target;

export function ratiosFor(summary: ScenarioSummary): RatioResult[] {
  return RATIOS.flatMap((spec) => {
    const of = summary.systems[spec.of];
    const to = summary.systems[spec.to];
    if (!spec.families.includes(summary.scenario.name) || !of || !to) return [];
    const ratios: RatioResult['ratios'] = {};
    for (const metric of spec.metrics) ratios[metric] = value(of, metric) / value(to, metric);
    const targets = Object.entries(spec.goal?.targets ?? {}) as [Metric, number][];
    return [
      {
        scenario: summary.scenario.id,
        of: spec.of,
        to: spec.to,
        ratios,
        goal: spec.goal?.name ?? null,
        targets: spec.goal?.targets ?? {},
        met: spec.goal
          ? targets.every(([metric, target]) => meets(metric, ratios[metric] ?? Number.NaN, target))
          : null,
      },
    ];
  });
}

export function goalsFor(summary: ScenarioSummary): GoalResult[] {
  return ABSOLUTE.flatMap((goal) => {
    const system = summary.systems[goal.system];
    if (!goal.families.includes(summary.scenario.name) || !system) return [];
    const figure = value(system, goal.metric);
    return [
      {
        scenario: summary.scenario.id,
        system: goal.system,
        metric: goal.metric,
        value: figure,
        target: goal.target,
        goal: `${goal.name}: ${HIGHER_IS_BETTER[goal.metric] ? '≥' : '≤'} ${goal.target.toLocaleString('en-US')} ${goal.unit}`,
        met: meets(goal.metric, figure, goal.target),
        note: goal.note ?? null,
      },
    ];
  });
}

const fmtRatio = (ratio: number | undefined) =>
  ratio !== undefined && Number.isFinite(ratio) ? `×${ratio.toFixed(2)}` : 'n/a';

export function formatRatio(result: RatioResult): string {
  const parts = (Object.entries(result.ratios) as [Metric, number][]).map(([metric, ratio]) => {
    const target = result.targets[metric];
    const goal =
      target === undefined
        ? ''
        : ` (goal ${HIGHER_IS_BETTER[metric] ? '≥' : '≤'}${target.toFixed(2)}: ${meets(metric, ratio, target) ? 'met' : 'NOT met'})`;
    return `${METRIC_LABEL[metric]} ${fmtRatio(ratio)}${goal}`;
  });
  return `${result.scenario.padEnd(14)} ${`${result.of} / ${result.to}`.padEnd(42)} ${parts.join('   ')}`;
}

export function formatGoal(result: GoalResult): string {
  const figure =
    result.metric === 'kbPerConnection'
      ? result.value.toFixed(1)
      : Math.round(result.value).toLocaleString('en-US');
  return (
    `${result.scenario.padEnd(14)} ${result.system.padEnd(42)} ${METRIC_LABEL[result.metric]} ${figure}` +
    ` (${result.goal}: ${result.met ? 'met' : 'NOT met'})${result.note ? ` — ${result.note}` : ''}`
  );
}
