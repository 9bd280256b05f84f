import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { METRICS_PATH, metricsExposure } from '../../src/metrics/endpoint.js';
import { parseEnvFile } from '../helpers/deployEnv.js';
import { read } from './manifests.js';

/*
 * Static checks of docker-compose.yml and its load balancer's nginx config: the topology, health
 * checks and start order, that no secret is committed, and that nginx carries WebSocket upgrades
 * on /ws to every chat server and everything else to the API. Then the same for the Redis Cluster
 * override, docker-compose.cluster.yml, merged onto it as compose merges files.
 */

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  profiles?: string[];
  env_file?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = compose.services;
const service = (name: string, file = compose) => {
  const found = file.services[name];
  if (!found) throw new Error(`no service ${name}`);
  return found;
};

/** `${NAME:-default}` → default; `${NAME:?error}` and `${NAME}` → undefined (must be provided). */
function interpolateDefault(value: string): string | undefined {
  const reference = /^\$\{[A-Z_][A-Z0-9_]*(?::?-([^}]*))?(?::?\?[^}]*)?\}$/.exec(value);
  if (!reference) return value.includes('${') ? undefined : value;
  return reference[1];
}

/** The environment compose gives a service: its env files, then `environment` (defaults used). */
function environmentOf(name: string, file = compose): Record<string, string> {
  const svc = service(name, file);
  const env: Record<string, string> = {};
  for (const envFile of svc.env_file ?? []) {
    Object.assign(env, parseEnvFile(read(envFile), envFile));
  }
  for (const [key, value] of Object.entries(svc.environment ?? {})) {
    const resolved = interpolateDefault(String(value));
    if (resolved !== undefined) env[key] = resolved;
  }
  return env;
}

const roleOf = (name: string) => environmentOf(name).ROLE;
const chatServers = Object.keys(services).filter((name) => roleOf(name) === 'chat');
const apiServers = Object.keys(services).filter((name) => roleOf(name) === 'api');
const chathub = [...apiServers, ...chatServers];

/**
 * `docker compose -f base -f override`: mappings merge key by key (services, environment,
 * depends_on), anything else in the override replaces the base's (command, image).
 */
function mergeCompose<T>(base: T, override: T): T {
  const isMapping = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isMapping(base) || !isMapping(override)) return override;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = key in base ? mergeCompose(base[key], value) : value;
  }
  return merged as T;
}

// ---- a small nginx config reader: directives with arguments, blocks as children ----

interface Directive {
  name: string;
  args: string[];
  children: Directive[];
}

function parseNginx(text: string): Directive[] {
  const tokens: string[] = [];
  const pattern = /#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[0].startsWith('#')) continue;
    tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4] ?? '');
  }
  let at = 0;
  const block = (): Directive[] => {
    const directives: Directive[] = [];
    while (at < tokens.length && tokens[at] !== '}') {
      const name = tokens[at++] ?? '';
      const args: string[] = [];
      while (at < tokens.length && tokens[at] !== ';' && tokens[at] !== '{') {
        args.push(tokens[at++] ?? '');
      }
      const end = tokens[at++];
      let children: Directive[] = [];
      if (end === '{') {
        children = block();
        if (tokens[at++] !== '}') throw new Error(`unclosed block ${name}`);
      } else if (end !== ';') {
        throw new Error(`directive ${name} does not end with ;`);
      }
      directives.push({ name, args, children });
    }
    return directives;
  };
  const directives = block();
  if (at !== tokens.length) throw new Error('unbalanced }');
  return directives;
}

const nginx = parseNginx(read('deploy/compose/nginx.conf'));
const find = (within: Directive[], name: string, ...args: string[]) =>
  within.filter((d) => d.name === name && args.every((arg, i) => d.args[i] === arg));
const one = (within: Directive[], name: string, ...args: string[]) => {
  const found = find(within, name, ...args);
  if (found.length !== 1) throw new Error(`expected one ${name} ${args.join(' ')}`);
  return found[0] as Directive;
};
const header = (location: Directive, name: string) =>
  find(location.children, 'proxy_set_header', name)[0]?.args[1];
/** The `host:port` of the servers of the upstream a location proxies to. */
function upstreamServers(location: Directive): string[] {
  const target = one(location.children, 'proxy_pass').args[0] ?? '';
  const upstream = one(nginx, 'upstream', target.replace(/^http:\/\//, ''));
  return find(upstream.children, 'server').map((s) => s.args[0] ?? '');
}

describe('docker-compose.yml', () => {
  it('runs MongoDB, Redis, an API server, two or more chat servers and a load balancer', () => {
    expect(service('mongo').image).toMatch(/^mongo:7/);
    expect(service('redis').image).toMatch(/^redis:7/);
    expect(apiServers).toEqual(['api']);
    expect(chatServers.length).toBeGreaterThanOrEqual(2);
    expect(service('lb').image).toMatch(/^(nginx|haproxy):\d/);
    expect(Object.keys(services).sort()).toEqual(
      ['lb', 'mongo', 'redis', 'prometheus', ...chathub].sort(),
    );
    for (const name of chathub) {
      expect(service(name).image, name).toBe('chathub:latest');
      expect(service(name).build, name).toBe('.');
    }
  });

  it('gives every service a health check and starts each after what it needs is healthy', () => {
    for (const [name, svc] of Object.entries(services)) {
      expect(svc.healthcheck?.test, `${name} healthcheck`).toBeDefined();
    }
    for (const name of chathub) {
      expect(service(name).depends_on, name).toMatchObject({
        mongo: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
      // ChatHub's own check asks /readyz on the port its role listens on.
      expect(JSON.stringify(service(name).healthcheck?.test)).toContain('/readyz');
    }
    const lbNeeds = service('lb').depends_on ?? {};
    for (const name of chathub) {
      expect(lbNeeds[name], `lb waits for ${name}`).toEqual({ condition: 'service_healthy' });
    }
    expect(JSON.stringify(service('mongo').healthcheck?.test)).toMatch(/mongosh.*ping/);
    expect(JSON.stringify(service('redis').healthcheck?.test)).toMatch(/redis-cli.*ping/);
  });

  it('keeps MongoDB and Redis data in named volumes', () => {
    const named = Object.keys(compose.volumes ?? {});
    for (const [name, path] of [
      ['mongo', '/data/db'],
      ['redis', '/data'],
    ] as const) {
      const volume = service(name).volumes?.find((v) => v.split(':')[1] === path);
      expect(named, `${name} volume`).toContain(volume?.split(':')[0]);
    }
    expect(JSON.stringify(service('redis'))).toContain('--appendonly');
  });

  it('configures each role from the shared deploy/env files into a valid configuration', () => {
    for (const name of chathub) {
      const role = roleOf(name);
      expect(service(name).env_file).toEqual(['deploy/env/common.env', `deploy/env/${role}.env`]);
      const env = environmentOf(name);
      // JWT_SECRET is required from .env; stand in for it to see what the process would make of
      // the rest.
      expect(env.JWT_SECRET, name).toBeUndefined();
      const config = loadConfig({ ...env, JWT_SECRET: 'x'.repeat(48) });
      expect(config.ROLE).toBe(role);
      expect(config.NODE_ENV).toBe('production');
      expect(config.MONGO_URL).toMatch(/^mongodb:\/\/mongo:27017\/\w+$/);
      expect(config.REDIS_URL).toBe('redis://redis:6379');
      expect(config.TRUST_PROXY).toBe(true);
    }
  });

  it('hands out the load balancer as every chat server’s PUBLIC_URL; only the balancer is published', () => {
    const [published] = service('lb').ports ?? [];
    const [hostPort, containerPort] = (published ?? '').split(/:(?=[^:}]*$)/);
    const publicUrls = new Set(chatServers.map((name) => environmentOf(name).PUBLIC_URL));
    expect(publicUrls.size).toBe(1);
    const url = new URL([...publicUrls][0] ?? '');
    expect(url.protocol).toBe('ws:');
    expect(url.port).toBe(interpolateDefault(hostPort ?? ''));
    expect(url.pathname).toBe('/ws');
    expect(one(one(nginx, 'server').children, 'listen').args[0]).toBe(containerPort);
    for (const name of ['mongo', 'redis', ...chathub]) {
      expect(service(name).ports, `${name} is not published`).toBeUndefined();
    }
  });

  it('commits no secret: JWT_SECRET only as a required variable from .env', () => {
    for (const name of chathub) {
      expect(service(name).environment?.JWT_SECRET, name).toMatch(/^\$\{JWT_SECRET:\?[^}]+\}$/);
    }
    for (const [index, line] of composeText.split('\n').entries()) {
      const assignment = /(SECRET|PASSWORD|TOKEN)[A-Z_]*\s*[:=]\s*(\S+)/.exec(line);
      if (assignment && !line.trim().startsWith('#')) {
        expect(assignment[2], `docker-compose.yml:${index + 1}`).toMatch(/^\$\{/);
      }
    }
    const example = parseEnvFile(read('.env.example'), '.env.example');
    expect(Object.keys(example)).toEqual(['JWT_SECRET']);
    // The documented placeholder is too short for ChatHub to accept, so it can never go live.
    const placeholder = example.JWT_SECRET ?? '';
    expect(placeholder).toMatch(/^change-me/);
    expect(() => loadConfig({ JWT_SECRET: placeholder })).toThrow(/JWT_SECRET/);
    expect(read('.gitignore').split('\n')).toContain('.env');
  });
});

describe('the load balancer (deploy/compose/nginx.conf)', () => {
  const server = one(nginx, 'server');
  const chatPort = (name: string) => environmentOf(name).PORT;

  it('proxies /ws with the WebSocket upgrade to every chat server', () => {
    const ws = one(server.children, 'location', '/ws');
    expect(upstreamServers(ws).sort()).toEqual(
      chatServers.map((name) => `${name}:${chatPort(name)}`).sort(),
    );
    expect(one(ws.children, 'proxy_http_version').args).toEqual(['1.1']);
    expect(header(ws, 'Upgrade')).toBe('$http_upgrade');
    const connection = header(ws, 'Connection');
    if (connection !== 'upgrade') {
      // A map from $http_upgrade that answers "upgrade" for upgrade requests.
      const map = one(nginx, 'map', '$http_upgrade', connection ?? '');
      expect(find(map.children, 'default')[0]?.args).toEqual(['upgrade']);
    }
    // Chat sockets stay open far longer than nginx's 60 s default.
    expect(one(ws.children, 'proxy_read_timeout').args[0]).toMatch(/^\d+[hm]$/);
  });

  it('proxies everything else to the API server', () => {
    const rest = one(server.children, 'location', '/');
    expect(upstreamServers(rest)).toEqual(
      apiServers.map((name) => `${name}:${environmentOf(name).PORT}`),
    );
    expect(find(server.children, 'location').map((l) => l.args.join(' '))).toEqual([
      '= /lb-healthz',
      '/ws',
      '/',
    ]);
    expect(JSON.stringify(service('lb').healthcheck?.test)).toContain('/lb-healthz');
  });

  it('overwrites X-Forwarded-For, which ChatHub believes behind a proxy (TRUST_PROXY=true)', () => {
    for (const location of find(server.children, 'location').slice(1)) {
      expect(header(location, 'X-Forwarded-For'), location.args.join(' ')).toBe('$remote_addr');
    }
  });
});

describe('docker-compose.cluster.yml: ChatHub on a Redis Cluster', () => {
  const overrideText = read('docker-compose.cluster.yml');
  const cluster = mergeCompose(compose, parse(overrideText, { merge: true }) as ComposeFile);
  const nodes = Object.keys(cluster.services).filter((name) =>
    service(name, cluster).command?.includes('--cluster-enabled'),
  );
  const init = service('redis-cluster', cluster);
  const initScript = (init.command ?? []).join('\n');

  it('runs six cluster nodes in place of the single Redis, each health-checked and unpublished', () => {
    expect(nodes.sort()).toEqual(['redis', 'redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5']);
    for (const name of nodes) {
      const node = service(name, cluster);
      expect(node.image, name).toMatch(/^redis:7/);
      expect(node.command?.[node.command.indexOf('--cluster-enabled') + 1], name).toBe('yes');
      expect(JSON.stringify(node.healthcheck?.test), name).toMatch(/redis-cli.*ping/);
      expect(node.ports, `${name} is not published`).toBeUndefined();
    }
    expect(Object.keys(cluster.services).sort()).toEqual(
      [...nodes, 'redis-cluster', 'mongo', 'lb', 'prometheus', ...chathub].sort(),
    );
  });

  it('joins the nodes once all are healthy, one replica per master, and only once', () => {
    for (const name of nodes) {
      expect(init.depends_on?.[name], name).toEqual({ condition: 'service_healthy' });
    }
    expect(initScript).toMatch(/redis-cli --cluster create .*--cluster-replicas 1 --cluster-yes/);
    // Every node, by address (CLUSTER MEET takes no names), and compose's $ escaped.
    expect(initScript).toContain(`for host in ${[...nodes].sort().join(' ')}; do`);
    expect(initScript).toContain('getent hosts $$host');
    expect(initScript).not.toMatch(/(^|[^$])\$(?!\$)[a-z(]/);
    // Run again on an existing cluster, it changes nothing.
    expect(initScript.split('\n')[0]).toMatch(/cluster_state:ok.*exit 0/);
  });

  it('starts every ChatHub service after the cluster is built, configured for it alone', () => {
    for (const name of chathub) {
      expect(service(name, cluster).depends_on, name).toMatchObject({
        mongo: { condition: 'service_healthy' },
        'redis-cluster': { condition: 'service_completed_successfully' },
      });
      const config = loadConfig({ ...environmentOf(name, cluster), JWT_SECRET: 'x'.repeat(48) });
      expect(config.REDIS_URL, name).toBeUndefined();
      expect(config.redis, name).toEqual({
        kind: 'cluster',
        nodes: nodes.map((host) => ({ host, port: 6379 })),
      });
      expect(config.ROLE).toBe(roleOf(name));
    }
  });

  it('publishes nothing beyond the load balancer and commits no secret', () => {
    expect(service('lb', cluster).ports).toEqual(service('lb').ports);
    expect(overrideText).not.toMatch(/SECRET|PASSWORD|TOKEN/);
  });
});

describe('metrics in docker-compose.yml', () => {
  const prometheus = service('prometheus');
  const metricsPortOf = (name: string) =>
    loadConfig({ ...environmentOf(name), JWT_SECRET: 'x'.repeat(48) }).METRICS_PORT;

  it('serves /metrics of every ChatHub server on a port of its own, inside the compose network', () => {
    for (const name of chathub) {
      const config = loadConfig({ ...environmentOf(name), JWT_SECRET: 'x'.repeat(48) });
      expect(metricsExposure(config), name).toBe('own-port');
      expect(config.METRICS_HOST, name).toBe('0.0.0.0');
      expect(config.METRICS_PORT, name).not.toBe(config.PORT);
      // Not published: only the optional Prometheus, on the same network, reaches it.
      expect(service(name).ports, name).toBeUndefined();
    }
  });

  it('runs Prometheus only with the `metrics` profile, on this machine’s loopback only', () => {
    expect(prometheus.profiles).toEqual(['metrics']);
    const withProfiles = Object.entries(services).filter(([, svc]) => svc.profiles);
    expect(withProfiles.map(([name]) => name)).toEqual(['prometheus']);
    expect(prometheus.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(prometheus.ports?.length).toBeGreaterThan(0);
    for (const port of prometheus.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    expect(JSON.stringify(prometheus.healthcheck?.test)).toContain('/-/healthy');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(prometheus.volumes).toContain(
      './deploy/compose/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
    const data = prometheus.volumes?.find((v) => v.endsWith(':/prometheus'));
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.split(':')[0]);
  });

  it('scrapes every ChatHub server, and nothing else, on its metrics port', () => {
    const config = parse(read('deploy/compose/prometheus.yml')) as {
      global?: { scrape_interval?: string };
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        static_configs: { targets: string[] }[];
      }[];
    };
    expect(config.global?.scrape_interval).toMatch(/^\d+s$/);
    const jobs = config.scrape_configs;
    expect(new Set(jobs.map((job) => job.job_name)).size).toBe(jobs.length);
    for (const job of jobs) expect(job.metrics_path ?? '/metrics', job.job_name).toBe(METRICS_PATH);
    const targets = jobs.flatMap((job) => job.static_configs.flatMap((c) => c.targets));
    expect(targets.sort()).toEqual(chathub.map((name) => `${name}:${metricsPortOf(name)}`).sort());
  });
});
