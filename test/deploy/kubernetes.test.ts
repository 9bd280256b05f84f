import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { METRICS_PATH, metricsExposure } from '../../src/metrics/endpoint.js';
import { ServerMetrics } from '../../src/metrics/serverMetrics.js';
import { Scrape } from '../helpers/metrics.js';
import {
  applyJsonPatch,
  DEPLOY,
  filesUnder,
  generatedData,
  type JsonPatchOperation,
  loadKustomization,
  loadManifests,
  type Manifest,
  read,
  validateObject,
} from './manifests.js';

/*
 * Offline checks of the Kubernetes manifests (kubectl apply -k deploy/): every object against the
 * Kubernetes schemas (kubernetes-models), and the wiring between them that a cluster would only
 * reveal at run time.
 */

const kustomization = loadKustomization();
const manifests = loadManifests(kustomization);

type Labels = Record<string, string>;
interface Workload {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels?: Labels };
    template: IPodTemplateSpec;
  };
}
interface ServiceObject {
  metadata: { name: string; labels?: Labels };
  spec: {
    clusterIP?: string;
    selector?: Labels;
    ports: { name?: string; port: number; targetPort?: number | string }[];
  };
}
interface IngressPath {
  path: string;
  pathType: string;
  backend: { service: { name: string; port: { name?: string; number?: number } } };
}

const ofKind = (kind: string) => manifests.filter((m) => m.object.kind === kind);
const nameOf = (m: Manifest) => (m.object.metadata as { name: string }).name;
const workloads: Workload[] = [...ofKind('Deployment'), ...ofKind('StatefulSet')].map((m) => ({
  kind: m.object.kind as Workload['kind'],
  name: nameOf(m),
  spec: m.object.spec as Workload['spec'],
}));
const services = ofKind('Service').map((m) => m.object as unknown as ServiceObject);
const workload = (kind: Workload['kind'], name: string) => {
  const found = workloads.find((w) => w.kind === kind && w.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
};
const containersOf = (w: Workload): IContainer[] => w.spec.template.spec?.containers ?? [];
const podLabels = (w: Workload): Labels => (w.spec.template.metadata?.labels ?? {}) as Labels;
const selects = (selector: Labels | undefined, labels: Labels) =>
  !!selector &&
  Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels[key] === value);

const configMaps = new Map(
  (kustomization.configMapGenerator ?? []).map((g) => [g.name, generatedData(g)]),
);
const secretNames = new Set((kustomization.secretGenerator ?? []).map((g) => g.name));

/** The environment a container gets from its ConfigMaps and literal env (not secrets). */
function environmentOf(container: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const name = source.configMapRef?.name;
    if (name) Object.assign(env, configMaps.get(name));
  }
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
  }
  return env;
}

const chathubDeployments = workloads.filter(
  (w) => w.kind === 'Deployment' && containersOf(w).some((c) => c.image === 'chathub:latest'),
);

describe('Kubernetes manifests (deploy/)', () => {
  it('lists every manifest in deploy/k8s in the kustomization, in one namespace', () => {
    const onDisk = readdirSync(join(DEPLOY, 'k8s')).filter((f) => /\.ya?ml$/.test(f));
    expect([...(kustomization.resources ?? [])].sort()).toEqual(
      onDisk.map((f) => `k8s/${f}`).sort(),
    );
    expect(kustomization.namespace).toBe('chathub');
    expect(ofKind('Namespace').map(nameOf)).toEqual(['chathub']);
    // Nothing else in deploy/ would confuse `kubectl apply -k deploy/`: the only other YAML is
    // the kustomization itself, the optional monitoring component (off unless turned on) and
    // the compose Prometheus's configuration.
    const yamlOutsideK8s = filesUnder('deploy').filter(
      (f) => /\.ya?ml$/.test(f) && !f.startsWith('deploy/k8s/'),
    );
    expect(yamlOutsideK8s).toEqual([
      'deploy/compose/prometheus.yml',
      'deploy/kustomization.yaml',
      'deploy/monitoring/hpa-connections.yaml',
      'deploy/monitoring/kustomization.yaml',
      'deploy/monitoring/prometheus-adapter-values.yaml',
      'deploy/monitoring/servicemonitor.yaml',
    ]);
    expect(kustomization.components).toBeUndefined();
  });

  it('validates every object, and the generated ConfigMaps, against the Kubernetes schemas', () => {
    expect(manifests.length).toBeGreaterThan(10);
    for (const manifest of manifests) {
      expect(() => validateObject(manifest), `${manifest.file} ${nameOf(manifest)}`).not.toThrow();
    }
    for (const [name, data] of configMaps) {
      const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
      expect(() => validateObject({ file: 'kustomization.yaml', object })).not.toThrow();
    }
  });

  it('gives every container readiness and liveness probes, requests and limits, and no root', () => {
    expect(workloads.map((w) => `${w.kind}/${w.name}`).sort()).toEqual([
      'Deployment/api',
      'Deployment/chat',
      'StatefulSet/mongo',
      'StatefulSet/redis',
    ]);
    for (const w of workloads) {
      const pod = w.spec.template.spec;
      expect(pod?.automountServiceAccountToken, w.name).toBe(false);
      expect(pod?.initContainers ?? [], w.name).toEqual([]);
      for (const c of containersOf(w)) {
        const where = `${w.name}/${c.name}`;
        expect(c.readinessProbe, `${where} readiness`).toBeDefined();
        expect(c.livenessProbe, `${where} liveness`).toBeDefined();
        for (const kind of ['requests', 'limits'] as const) {
          expect(c.resources?.[kind]?.cpu, `${where} ${kind}.cpu`).toBeDefined();
          expect(c.resources?.[kind]?.memory, `${where} ${kind}.memory`).toBeDefined();
        }
        const nonRoot = c.securityContext?.runAsNonRoot ?? pod?.securityContext?.runAsNonRoot;
        expect(nonRoot, `${where} runAsNonRoot`).toBe(true);
        const user = c.securityContext?.runAsUser ?? pod?.securityContext?.runAsUser;
        expect(user, `${where} runAsUser`).toBeGreaterThan(0);
        expect(c.securityContext?.allowPrivilegeEscalation, where).toBe(false);
        expect(c.securityContext?.capabilities?.drop, where).toContain('ALL');
        expect(c.securityContext?.readOnlyRootFilesystem, where).toBe(true);
        // Probes and Services refer to ports by names the container declares.
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (port === undefined) continue;
          expect(
            c.ports?.some((p) => p.name === port || p.containerPort === port),
            `${where} probe port ${port}`,
          ).toBe(true);
        }
      }
    }
  });

  it('runs both ChatHub roles from the one image, each with its ROLE and a valid configuration', () => {
    expect(chathubDeployments.map((w) => w.name).sort()).toEqual(['api', 'chat']);
    for (const w of chathubDeployments) {
      const pod = w.spec.template.spec;
      expect(pod?.terminationGracePeriodSeconds, w.name).toBeGreaterThanOrEqual(15);
      expect(pod?.securityContext?.runAsUser, w.name).toBe(1000);
      const [container, ...others] = containersOf(w);
      if (!container) throw new Error(`${w.name} has no container`);
      expect(others).toEqual([]);
      expect(container.imagePullPolicy).toBe('IfNotPresent');
      expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
      // DATA_DIR and /tmp are writable although the root filesystem is not.
      const mounts = (container.volumeMounts ?? []).map((m) => m.mountPath);
      expect(mounts).toEqual(expect.arrayContaining(['/data', '/tmp']));

      for (const source of container.envFrom ?? []) {
        if (source.configMapRef) expect(configMaps.has(source.configMapRef.name ?? '')).toBe(true);
        if (source.secretRef) expect(secretNames.has(source.secretRef.name ?? '')).toBe(true);
      }
      expect(
        container.envFrom?.some((s) => s.secretRef?.name === 'chathub-jwt'),
        `${w.name} gets JWT_SECRET`,
      ).toBe(true);

      const env = environmentOf(container);
      expect(env.ROLE, `${w.name} sets ROLE`).toBe(podLabels(w)['app.kubernetes.io/component']);
      // What the process would make of it (the Secret stands in as a placeholder here).
      const config = loadConfig({ ...env, JWT_SECRET: 'x'.repeat(48) });
      expect(config.ROLE).toBe(w.name);
      expect(config.NODE_ENV).toBe('production');
      expect(config.MONGO_URL).toMatch(/^mongodb:\/\/mongo:27017\//);
      expect(config.REDIS_URL).toBe('redis://redis:6379');
      expect(container.ports?.map((p) => p.containerPort)).toEqual([
        config.PORT,
        config.METRICS_PORT,
      ]);
    }
  });

  it('selects the pods of some Deployment or StatefulSet with every Service, on declared ports', () => {
    expect(services.map((s) => s.metadata.name).sort()).toEqual(['api', 'chat', 'mongo', 'redis']);
    for (const service of services) {
      const targets = workloads.filter((w) => selects(service.spec.selector, podLabels(w)));
      expect(targets.length, `Service ${service.metadata.name} selects pods`).toBe(1);
      const [target] = targets;
      if (!target) continue;
      const containerPorts = containersOf(target).flatMap((c) => c.ports ?? []);
      for (const port of service.spec.ports) {
        const targetPort = port.targetPort ?? port.port;
        expect(
          containerPorts.some((p) => p.name === targetPort || p.containerPort === targetPort),
          `Service ${service.metadata.name} port ${targetPort}`,
        ).toBe(true);
      }
      // A workload's own selector matches its template, and a StatefulSet's headless Service.
      expect(selects(target.spec.selector.matchLabels, podLabels(target))).toBe(true);
      if (target.kind === 'StatefulSet') {
        expect(target.spec.serviceName).toBe(service.metadata.name);
        expect(service.spec.clusterIP).toBe('None');
        expect(target.spec.replicas).toBe(1);
      }
    }
  });

  it('routes /ws to the chat Service and /trpc and / to the api Service through one Ingress', () => {
    const [ingress, ...others] = ofKind('Ingress');
    expect(others).toEqual([]);
    const spec = ingress?.object.spec as {
      ingressClassName?: string;
      rules: { host?: string; http: { paths: IngressPath[] } }[];
    };
    expect(spec.ingressClassName).toBe('nginx');
    const [rule] = spec.rules;
    const route = (path: string) => rule?.http.paths.find((p) => p.path === path);
    expect(route('/ws')?.backend.service.name).toBe('chat');
    expect(route('/trpc')?.backend.service.name).toBe('api');
    expect(route('/')?.backend.service.name).toBe('api');
    for (const path of rule?.http.paths ?? []) {
      const service = services.find((s) => s.metadata.name === path.backend.service.name);
      const port = path.backend.service.port;
      expect(
        service?.spec.ports.some((p) => p.name === port.name || p.port === port.number),
        `${path.path} → ${path.backend.service.name}:${port.name ?? port.number}`,
      ).toBe(true);
    }
    // Idle chat sockets outlive nginx's 60 s default.
    const metadata = ingress?.object.metadata as { annotations?: Labels } | undefined;
    const annotations = metadata?.annotations ?? {};
    expect(
      Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']),
    ).toBeGreaterThanOrEqual(300);
    expect(
      Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout']),
    ).toBeGreaterThanOrEqual(300);

    // Every chat pod announces the Ingress's own /ws as its PUBLIC_URL.
    const chat = containersOf(workload('Deployment', 'chat'))[0];
    const publicUrl = new URL(chat ? (environmentOf(chat).PUBLIC_URL ?? '') : '');
    expect(publicUrl.protocol).toMatch(/^wss?:$/);
    expect(publicUrl.host).toBe(rule?.host);
    expect(publicUrl.pathname).toBe('/ws');
  });

  it('scales the chat Deployment on CPU and keeps one chat pod through voluntary disruptions', () => {
    const [hpa] = ofKind('HorizontalPodAutoscaler');
    const spec = hpa?.object.spec as {
      scaleTargetRef: { apiVersion: string; kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: { type: string; resource?: { name: string } }[];
    };
    expect(spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'chat',
    });
    expect(spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(spec.maxReplicas).toBeGreaterThan(spec.minReplicas);
    expect(spec.metrics.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')).toBe(
      true,
    );
    // The autoscaler owns the replica count; re-applying must not reset it.
    const chat = workload('Deployment', 'chat');
    expect(chat.spec.replicas).toBeUndefined();

    const [pdb] = ofKind('PodDisruptionBudget');
    const pdbSpec = pdb?.object.spec as { selector: { matchLabels: Labels }; minAvailable: number };
    const selected = workloads.filter((w) => selects(pdbSpec.selector.matchLabels, podLabels(w)));
    expect(selected.map((w) => w.name)).toEqual(['chat']);
    expect(pdbSpec.minAvailable).toBeLessThan(spec.minReplicas);
  });

  it('commits no secret: JWT_SECRET comes from a gitignored file through a secretGenerator', () => {
    for (const secret of ofKind('Secret')) {
      const data = {
        ...(secret.object.data as Labels | undefined),
        ...(secret.object.stringData as Labels | undefined),
      };
      for (const [key, value] of Object.entries(data)) {
        expect(value, `${nameOf(secret)}.${key} is a placeholder`).toMatch(/change-me/i);
      }
    }
    const [generator, ...others] = kustomization.secretGenerator ?? [];
    expect(others).toEqual([]);
    expect(generator?.name).toBe('chathub-jwt');
    expect(generator?.literals).toBeUndefined();
    const ignored = read('.gitignore').split('\n');
    for (const file of [...(generator?.envs ?? []), ...(generator?.files ?? [])]) {
      expect(ignored, `deploy/${file} is gitignored`).toContain(`deploy/${file}`);
    }
    // ConfigMaps are not secret: nothing secret-looking goes into them.
    for (const [name, data] of configMaps) {
      for (const key of Object.keys(data)) {
        expect(key, `${name}.${key}`).not.toMatch(/SECRET|PASSWORD|TOKEN|KEY/);
      }
    }
    // And no file under deploy/ carries a value for JWT_SECRET.
    for (const file of filesUnder('deploy')) {
      if (file === 'deploy/jwt-secret.env') continue; // the local, gitignored secret
      expect(read(file), file).not.toMatch(/JWT_SECRET\s*[=:]\s*["']?[A-Za-z0-9+/=_-]{16,}/);
    }
  });
});

describe('metrics in Kubernetes', () => {
  const metricsPort = (container: IContainer) =>
    container.ports?.find((port) => port.name === 'metrics');

  it('serves /metrics on a port of its own, annotated for Prometheus, that the Ingress never routes to', () => {
    for (const w of chathubDeployments) {
      const [container] = containersOf(w);
      if (!container) throw new Error(`${w.name} has no container`);
      const config = loadConfig({ ...environmentOf(container), JWT_SECRET: 'x'.repeat(48) });
      // Reachable on the pod network by the scraper; no token, since only the cluster reaches it.
      expect(metricsExposure(config), w.name).toBe('own-port');
      expect(config.METRICS_HOST, w.name).toBe('0.0.0.0');
      expect(config.METRICS_TOKEN, w.name).toBeUndefined();
      expect(metricsPort(container)?.containerPort, w.name).toBe(config.METRICS_PORT);

      const annotations = w.spec.template.metadata?.annotations ?? {};
      expect(annotations['prometheus.io/scrape'], w.name).toBe('true');
      expect(annotations['prometheus.io/port'], w.name).toBe(String(config.METRICS_PORT));
      expect(annotations['prometheus.io/path'], w.name).toBe(METRICS_PATH);

      const service = services.find((s) => selects(s.spec.selector, podLabels(w)));
      expect(
        service?.spec.ports.some((p) => p.targetPort === 'metrics'),
        w.name,
      ).toBe(true);
    }
    const ingressPorts = ofKind('Ingress').flatMap((ingress) => {
      const spec = ingress.object.spec as { rules: { http: { paths: IngressPath[] } }[] };
      return spec.rules.flatMap((rule) => rule.http.paths.map((p) => p.backend.service.port));
    });
    for (const port of ingressPorts) {
      expect(port.name).not.toBe('metrics');
      expect(port.number).not.toBe(9464);
    }
  });

  const component = parse(read('deploy/monitoring/kustomization.yaml')) as {
    apiVersion: string;
    kind: string;
    resources: string[];
    patches: { path: string; target: Record<string, string> }[];
  };
  const [hpa] = ofKind('HorizontalPodAutoscaler');
  if (!hpa) throw new Error('no HorizontalPodAutoscaler');

  it('has an optional component that scales chat on connections per pod beside CPU', () => {
    expect(component.kind).toBe('Component');
    expect(component.apiVersion).toBe('kustomize.config.k8s.io/v1alpha1');
    expect(component.resources).toEqual(['servicemonitor.yaml']);
    const [patch, ...others] = component.patches;
    expect(others).toEqual([]);
    expect(patch?.target).toEqual({
      group: 'autoscaling',
      version: 'v2',
      kind: 'HorizontalPodAutoscaler',
      name: nameOf(hpa),
    });
    const operations = parse(read(`deploy/monitoring/${patch?.path}`)) as JsonPatchOperation[];
    const scaled = new HorizontalPodAutoscaler(applyJsonPatch(hpa.object, operations) as never);
    scaled.validate();
    const metrics = scaled.spec?.metrics ?? [];
    expect(metrics.map((m) => m.type)).toEqual(['Resource', 'Pods']);
    expect(metrics[0]?.resource?.name).toBe('cpu');
    const pods = metrics[1]?.pods;
    expect(pods?.metric.name).toBe('chathub_ws_connections');
    expect(pods?.target.type).toBe('AverageValue');
    expect(Number(pods?.target.averageValue)).toBeGreaterThan(0);
  });

  it('serves that metric through the documented prometheus-adapter rule, from what ChatHub exposes', async () => {
    const values = parse(read('deploy/monitoring/prometheus-adapter-values.yaml')) as {
      rules: {
        custom: {
          seriesQuery: string;
          resources: { overrides: Record<string, { resource: string }> };
          name: { matches: string; as: string };
          metricsQuery: string;
        }[];
      };
    };
    const [rule, ...others] = values.rules.custom;
    expect(others).toEqual([]);
    expect(rule?.name.as).toBe('chathub_ws_connections');
    expect(rule?.seriesQuery).toMatch(/^chathub_ws_connections\{/);
    expect(new RegExp(rule?.name.matches ?? '').test('chathub_ws_connections')).toBe(true);
    expect(rule?.resources.overrides).toEqual({
      namespace: { resource: 'namespace' },
      pod: { resource: 'pod' },
    });
    expect(rule?.metricsQuery).toContain('state="authenticated"');
    expect(rule?.metricsQuery).toContain('<<.LabelMatchers>>');

    // The series and its label are ChatHub's own.
    const metrics = new ServerMetrics();
    metrics.watchChatServer({
      openSockets: () => 2,
      transport: { connectionCount: () => 1, largestBacklog: () => 0 },
      hub: { localRooms: () => 0, localMembers: () => 0 },
      announcement: { connections: () => 1, available: () => true },
    });
    const exposed = new Scrape(await metrics.render());
    expect(exposed.sample('chathub_ws_connections', { state: 'authenticated' })).toBe(1);
  });

  it('has a ServiceMonitor that scrapes the api and chat Services on their metrics port', () => {
    const monitor = parse(read('deploy/monitoring/servicemonitor.yaml')) as {
      apiVersion: string;
      kind: string;
      spec: {
        selector: {
          matchLabels: Labels;
          matchExpressions: { key: string; operator: string; values: string[] }[];
        };
        endpoints: { port: string; path: string }[];
      };
    };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.kind).toBe('ServiceMonitor');
    const { matchLabels, matchExpressions } = monitor.spec.selector;
    const selected = services.filter(({ metadata: { labels = {} } }) => {
      const expressionsHold = matchExpressions.every(
        (e) => e.operator === 'In' && e.values.includes(labels[e.key] ?? ''),
      );
      return selects(matchLabels, labels) && expressionsHold;
    });
    expect(selected.map((s) => s.metadata.name).sort()).toEqual(['api', 'chat']);
    expect(monitor.spec.endpoints.length).toBeGreaterThan(0);
    for (const endpoint of monitor.spec.endpoints) {
      expect(endpoint.path).toBe(METRICS_PATH);
      for (const service of selected) {
        const named = service.spec.ports.some((p) => p.name === endpoint.port);
        expect(named, service.metadata.name).toBe(true);
      }
    }
  });
});
