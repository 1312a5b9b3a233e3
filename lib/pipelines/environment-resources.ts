import { Annotations, Aspects, CfnResource, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import type { EnvironmentConfig } from '../config/ddk-config';
import { didYouMean } from '../config/issues';

const CFN_TYPE = /^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$/;
const SYMBOL = Symbol.for('ddk-pipelines.EnvironmentResources');

/**
 * The per-environment construct settings of `ddk.json` (`environments.<id>.resources`),
 * as props for the constructs of one environment.
 *
 * `resources.<construct-id>` holds props for the construct with that id (snake_case keys
 * become camelCase, `removal_policy` becomes a `RemovalPolicy`). A key that is a
 * CloudFormation type (`AWS::S3::Bucket`) is applied, as the DDK did, as property overrides
 * on every resource of that type. Entries no construct read are reported when the
 * environment is synthesized, with a "did you mean" suggestion.
 */
export class EnvironmentResources {
  /**
   * The resources of the environment `scope` belongs to.
   *
   * @param scope any construct inside an environment's stage (or the scope passed to `attach`)
   * @throws when `scope` is not inside an environment's stage
   */
  public static of(scope: IConstruct): EnvironmentResources {
    for (let node: IConstruct | undefined = scope; node; node = node.node.scope) {
      const found = (node as any)[SYMBOL] as EnvironmentResources | undefined;
      if (found) return found;
    }
    throw new Error(`EnvironmentResources.of(${scope.node.path}): the construct is not inside a ddk-pipelines environment stage. Fix: build it in the IApplicationFactory passed to the pipeline, or call EnvironmentResources.attach() on an enclosing scope`);
  }

  /**
   * Makes an environment's resources available to every construct under `scope`.
   *
   * @param scope the Stage (or any scope) holding the environment's constructs
   * @param environment the environment from ddk.json
   */
  public static attach(scope: IConstruct, environment: EnvironmentConfig): EnvironmentResources {
    const r = new EnvironmentResources(scope, environment);
    Object.defineProperty(scope, SYMBOL, { value: r, enumerable: false });
    return r;
  }

  /** The environment the resources belong to. */
  public readonly environment: EnvironmentConfig;
  private readonly consumed = new Set<string>();

  private constructor(private readonly scope: IConstruct, environment: EnvironmentConfig) {
    this.environment = environment;
    const typeKeys = Object.keys(environment.resources).filter(k => CFN_TYPE.test(k));
    if (typeKeys.length > 0) Aspects.of(scope).add(new CfnTypeOverrides(environment, typeKeys));
    for (const k of typeKeys) this.consumed.add(k);
    scope.node.addValidation({ validate: () => this.reportUnconsumed() });
  }

  /**
   * Props for the construct with id `constructId`, ready to spread into its props.
   *
   * @param constructId the construct's id (the key under `resources`)
   * @returns the props (empty when ddk.json sets none)
   */
  public props(constructId: string): { [key: string]: any } {
    this.consumed.add(constructId);
    const props = this.environment.resourceProps(constructId) ?? {};
    if (typeof props.removalPolicy === 'string') props.removalPolicy = toRemovalPolicy(props.removalPolicy);
    return props;
  }

  /** Ids under `resources` that no construct asked for. */
  public get unconsumed(): string[] {
    return Object.keys(this.environment.resources).filter(k => !this.consumed.has(k));
  }

  private reportUnconsumed(): string[] {
    const unused = this.unconsumed;
    if (unused.length === 0) return [];
    const all = this.scope.node.findAll();
    const ids = new Set([...all.map(c => c.node.id), ...this.consumed]);
    const stack = all.find(c => Stack.isStack(c)) ?? this.scope;
    for (const id of unused) {
      Annotations.of(stack).addWarningV2('ddk-pipelines:unusedResourceSettings',
        `${this.environment.id}: environments.${this.environment.id}.resources["${id}"] was not used by any construct${didYouMean(id, ids)}. ` +
        'Fix: give the construct this id and pass EnvironmentResources.of(this).props(id) to it, or correct or remove the entry');
    }
    return [];
  }
}

function toRemovalPolicy(value: string): RemovalPolicy {
  switch (value.toLowerCase()) {
    case 'destroy': return RemovalPolicy.DESTROY;
    case 'retain': return RemovalPolicy.RETAIN;
    case 'snapshot': return RemovalPolicy.SNAPSHOT;
    case 'retain_on_update_or_delete': return RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;
    default: throw new Error(`removal_policy "${value}" is not one of destroy, retain, snapshot, retain_on_update_or_delete`);
  }
}

/** DDK compatibility: `resources["AWS::X::Y"]` sets raw properties on every resource of that type. */
class CfnTypeOverrides implements IAspect {
  constructor(private readonly environment: EnvironmentConfig, private readonly types: string[]) {}

  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node) || !this.types.includes(node.cfnResourceType)) return;
    for (const [prop, value] of Object.entries(this.environment.resources[node.cfnResourceType])) {
      node.addPropertyOverride(prop, value);
    }
  }
}
