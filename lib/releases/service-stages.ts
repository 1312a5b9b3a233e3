import { App, Stage } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { parse, ParseError, printParseErrorCode } from 'jsonc-parser';
import { SERVICE_NAME_PATTERN, SERVICE_VARIABLES, serviceStageName } from './shared';
import { DdkConfig } from '../config/ddk-config';
import { DdkConfigError, formatIssue } from '../config/issues';
import { CICD_ENVIRONMENT_ID } from '../config/validate';
import { ApplicationStage, IApplicationFactory } from '../pipelines/application-stage';

/** Props of `ServiceStages`. */
export interface ServiceStagesProps {
  /** Builds the service's stacks in each environment. */
  readonly application: IApplicationFactory;
  /**
   * The service's name (a key of `pipeline.services` in ddk.json).
   *
   * @default - the environment variable DDK_SERVICE (set by the service's pipeline build)
   */
  readonly service?: string;
  /**
   * The environments as JSON: `{"<id>": {"account": "…", "region": "…", …}, …}`, `cicd`
   * included, each as ddk.json writes it (see `ServiceStages.environmentsVariable`).
   *
   * @default - the environment variable DDK_ENVIRONMENTS (set by the service's pipeline build)
   */
  readonly environments?: string;
  /**
   * The environment variables read for `service` and `environments` (values that are not
   * strings, or empty, count as unset).
   *
   * @default - process.env
   */
  readonly env?: { [name: string]: any };
}

/** The fix every message of a missing or malformed variable names. */
const FIX = `run it in the service's pipeline build, or set ${SERVICE_VARIABLES.SERVICE} and ${SERVICE_VARIABLES.ENVIRONMENTS}`;

/** Name of the synthetic stage that lists the environments, so that ddk.json's rules validate them as in the file. */
const VALIDATION_STAGE = 'service-environments';

/**
 * The stages of one service of a plan with release brackets (`pipeline.services` in ddk.json),
 * for the service's own CDK app:
 *
 * ```ts
 * const app = new App();
 * new ServiceStages(app, 'Service', { application: new MyService() });
 * ```
 *
 * The service's pipeline build sets `DDK_SERVICE` (the service's name) and `DDK_ENVIRONMENTS`
 * (ddk.json's environments as JSON). For each environment but `cicd` this creates, at the app's
 * level, an `ApplicationStage` whose construct id is the environment id — its nested cloud
 * assembly is `assembly-<environment id>`, which the pipelines deploy with
 * `cdk deploy --app cdk.out/assembly-<environment id>` — and whose stage name is
 * `<service>-<environment id>`: the service's stacks are named
 * `<service>-<environment id>-<stack id>`, apart from every other service's. The environment's
 * tags, bootstrap qualifier and `resources` settings apply as in any `ApplicationStage`.
 */
export class ServiceStages extends Construct {
  /**
   * The value of `DDK_ENVIRONMENTS` for a configuration: every environment (`cicd` included) as
   * ddk.json writes it, its tags being the file's top-level tags overlaid with its own (as
   * `EnvironmentConfig.tags` reads them), so that a service's stacks carry the same tags.
   *
   * @param config the validated ddk.json
   */
  public static environmentsVariable(config: DdkConfig): string {
    const raw: { [id: string]: any } = config.attribute('environments') ?? {};
    const out: { [id: string]: any } = {};
    for (const env of config.environments) {
      const written = { ...(raw[env.id] ?? {}) };
      delete written.tags;
      out[env.id] = Object.keys(env.tags).length > 0 ? { ...written, tags: { ...env.tags } } : written;
    }
    return JSON.stringify(out);
  }

  /** The service's name. */
  public readonly service: string;
  /** One stage per environment (all but `cicd`), in the order of the environments. */
  public readonly stages: ApplicationStage[];

  constructor(scope: Construct, id: string, props: ServiceStagesProps) {
    super(scope, id);
    const env = props.env ?? process.env;
    const variable = (name: string): string | undefined => (typeof env[name] === 'string' && env[name] !== '' ? env[name] : undefined);

    const app = this.node.root;
    if (!App.isApp(app) || Stage.of(this) !== app) {
      throw new Error(`ServiceStages ${this.node.path}: is not in the app's own scope; expected it directly in the App (or in constructs that are not Stages), `
        + 'so that each environment\'s stage is a child of the App and its nested assembly is cdk.out/assembly-<environment id>, the one the pipelines deploy. '
        + 'Fix: create it as new ServiceStages(app, \'Service\', { application })');
    }

    this.service = serviceName(props.service, variable(SERVICE_VARIABLES.SERVICE));
    const config = environmentsConfig(props.environments, variable(SERVICE_VARIABLES.ENVIRONMENTS));
    this.stages = config.targets.map(environment => new ApplicationStage(app, environment.id, {
      environment,
      application: props.application,
      stageName: serviceStageName(this.service, environment.id),
    }));
  }
}

/** The service's name from the prop or DDK_SERVICE, checked against `SERVICE_NAME_PATTERN`. */
function serviceName(prop: string | undefined, fromEnv: string | undefined): string {
  const where = prop !== undefined ? 'ServiceStages props.service' : `ServiceStages: ${SERVICE_VARIABLES.SERVICE}`;
  const value = prop ?? fromEnv;
  const expected = 'the name of the service this app builds (a key of pipeline.services in ddk.json: lower-case letters, digits and "-", starting with a letter, at most 40 characters, e.g. "foobar-frontend")';
  if (value === undefined) {
    throw new Error(`${where} is not set; expected ${expected}. Fix: ${FIX}`);
  }
  if (!SERVICE_NAME_PATTERN.test(value)) {
    throw new Error(`${where}: ${JSON.stringify(value)} is not a service name; expected ${expected}. Fix: ${FIX}`);
  }
  return value;
}

/**
 * The environments from the prop or DDK_ENVIRONMENTS, validated by ddk.json's rules (account,
 * region, ids, tags, bootstrap, resources, a `cicd` and at least one other environment). The
 * variable's text never appears in a message: environments may hold references to secrets.
 */
function environmentsConfig(prop: string | undefined, fromEnv: string | undefined): DdkConfig {
  const name = prop !== undefined ? 'ServiceStages props.environments' : `ServiceStages: ${SERVICE_VARIABLES.ENVIRONMENTS}`;
  const shape = `ddk.json's "environments" as JSON, {"${CICD_ENVIRONMENT_ID}": {"account": "111111111111", "region": "eu-west-1"}, "dev": {"account": "…", "region": "…"}, …}`;
  const text = prop ?? fromEnv;
  if (text === undefined) {
    throw new Error(`${name} is not set; expected ${shape}. Fix: ${FIX}`);
  }
  const errors: ParseError[] = [];
  const doc = parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  if (errors.length > 0) {
    const e = errors[0];
    throw new Error(`${name} is not valid JSON at offset ${e.offset} (${printParseErrorCode(e.error)}); expected ${shape}. Fix: ${FIX}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new Error(`${name} is ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : `a ${typeof doc}`}, not an object; expected ${shape}. Fix: ${FIX}`);
  }
  const targets = Object.keys(doc).filter(id => id !== CICD_ENVIRONMENT_ID);
  // With pipeline.stages, ddk.json allows any environment id (the reserved stage names apply
  // to stages): one stage deploying every environment gives the file's rules without that one.
  const document = targets.length > 0
    ? { environments: doc, pipeline: { stages: [{ name: VALIDATION_STAGE, environments: targets }] } }
    : { environments: doc };
  const label = prop !== undefined ? 'props.environments' : SERVICE_VARIABLES.ENVIRONMENTS;
  try {
    return DdkConfig.fromObject(document, label);
  } catch (e) {
    if (!DdkConfigError.isDdkConfigError(e)) throw e;
    const n = e.issues.length;
    throw new Error(`${name} is not a valid environment map (${n} problem${n === 1 ? '' : 's'}); expected ${shape}. Fix: ${FIX}\n`
      // paths from the variable's root: `dev.account`, not `environments.dev.account`
      + e.issues.map(i => `  - ${formatIssue({ ...i, path: i.path.replace(/^environments(\.|(?=\[)|$)/, '') })}`).join('\n'));
  }
}
