import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parse, parseAllDocuments } from 'yaml';
import { parseEnvFile } from '../helpers/deployEnv.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');

export const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every file under a folder of the repository, as paths relative to the repository root. */
export function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .sort();
}

/** The kinds the manifests may use, each with its schema-validating model. */
const MODELS = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
} as const;

export interface Manifest {
  file: string;
  object: Record<string, unknown> & { apiVersion: string; kind: string };
}

export interface Kustomization {
  namespace?: string;
  resources?: string[];
  components?: string[];
  configMapGenerator?: Generator[];
  secretGenerator?: Generator[];
}

export interface Generator {
  name: string;
  envs?: string[];
  files?: string[];
  literals?: string[];
}

export function loadKustomization(): Kustomization {
  return parse(read('deploy/kustomization.yaml')) as Kustomization;
}

/** The objects of every resource file the kustomization lists, in order. */
export function loadManifests(kustomization = loadKustomization()): Manifest[] {
  return (kustomization.resources ?? []).flatMap((resource) => {
    const file = join('deploy', resource);
    return parseAllDocuments(read(file)).map((document, index) => {
      if (document.errors.length > 0) {
        throw new Error(`${file} #${index}: ${document.errors.map((e) => e.message).join('; ')}`);
      }
      const object = document.toJS() as Manifest['object'];
      return { file, object };
    });
  });
}

/** Validates one object against the Kubernetes OpenAPI schema of its kind; throws if invalid. */
export function validateObject({ file, object }: Manifest) {
  const key = `${object.apiVersion}/${object.kind}` as keyof typeof MODELS;
  const Model = MODELS[key];
  if (!Model) throw new Error(`${file}: no schema for ${key}`);
  const model = new Model(object as never);
  model.validate();
  return model;
}

/** The data kustomize generates for a ConfigMap or Secret generator (envs, then literals). */
export function generatedData(generator: Generator): Record<string, string> {
  const data: Record<string, string> = {};
  for (const env of generator.envs ?? []) {
    Object.assign(data, parseEnvFile(read(join('deploy', env)), env));
  }
  for (const literal of generator.literals ?? []) {
    const at = literal.indexOf('=');
    if (at < 1) throw new Error(`${generator.name}: literal without a key: ${literal}`);
    data[literal.slice(0, at)] = literal.slice(at + 1);
  }
  return data;
}

/** One operation of a JSON patch (RFC 6902), as kustomize applies it. */
export interface JsonPatchOperation {
  op: string;
  path: string;
  value?: unknown;
}

/**
 * Applies a JSON patch to a copy of `target`. Only `add` is supported (the manifests use nothing
 * else); any other operation throws, so a patch this check cannot follow fails it.
 */
export function applyJsonPatch<T>(target: T, operations: JsonPatchOperation[]): T {
  const result = structuredClone(target);
  for (const { op, path, value } of operations) {
    if (op !== 'add') throw new Error(`unsupported JSON patch operation ${op} at ${path}`);
    const keys = path.split('/').slice(1);
    const last = keys.pop();
    let at: unknown = result;
    for (const key of keys) {
      at = (at as Record<string, unknown> | undefined)?.[key];
    }
    if (Array.isArray(at) && (last === '-' || /^\d+$/.test(last ?? ''))) {
      at.splice(last === '-' ? at.length : Number(last), 0, value);
    } else if (at && typeof at === 'object' && last !== undefined) {
      (at as Record<string, unknown>)[last] = value;
    } else {
      throw new Error(`JSON patch path ${path} does not exist`);
    }
  }
  return result;
}
