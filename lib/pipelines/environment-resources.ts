import { Annotations, Aspects, CfnResource, IAspect, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import type { EnvironmentConfig } from '../config/ddk-config';
import { didYouMean } from '../config/issues';
import { CFN_TYPE, cfnTypeProperties, convertResource, KeyCase } from '../config/prop-keys';

const SYMBOL = Symbol.for('ddk-pipelines.EnvironmentResources');

/**
 * The per-environment construct settings of `ddk.json` (`environments.<id>.resources`),
 * as props for the constructs of one environment.
 *
 * `resources.<construct-id>` holds props for the construct with that id. Keys may be written in
 * snake_case (as DDK and Python users do), kebab-case or camelCase, at every depth:
 * `props(id)` returns them in camelCase for TypeScript (`removal_policy` becomes a
 * `RemovalPolicy`), `propsSnakeCase(id)` in snake_case for Python. The keys of maps of names
 * you choose (`tags`, a Lambda function's `environment`, …) are kept as written. A PascalCase
 * top-level key (`"PointInTimeRecoverySpecification"`) is, as the AWS DDK 1.x read it, a
 * CloudFormation property: it is set on the CloudFormation resource of the construct with that id.
 * A key that is a CloudFormation type (`AWS::S3::Bucket`) is applied, as the DDK did, as
 * property overrides on every resource of that type. Entries no construct read are reported when
 * the environment is synthesized, with a "did you mean" suggestion; keys that cannot be mapped
 * are warnings of `DdkConfig.warnings`.
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
  /** Ids whose `removal_policy` a caller received (through `props()` or `removalPolicy()`). */
  private readonly removalPolicyRead = new Set<string>();
  /** Ids whose CloudFormation properties (PascalCase keys) were set on a resource. */
  private readonly overridden = new Set<string>();

  private constructor(private readonly scope: IConstruct, environment: EnvironmentConfig) {
    this.environment = environment;
    const typeKeys = Object.keys(environment.resources).filter(k => CFN_TYPE.test(k));
    const overrides = new Map<string, { [key: string]: unknown }>();
    for (const [id, entry] of Object.entries(environment.resources)) {
      if (CFN_TYPE.test(id)) continue;
      const o = convertResource(entry, 'camel', []).overrides;
      if (Object.keys(o).length > 0) overrides.set(id, o);
    }
    if (typeKeys.length > 0 || overrides.size > 0) {
      Aspects.of(scope).add(new CloudFormationOverrides(environment, typeKeys, overrides, id => {
        this.consumed.add(id);
        this.overridden.add(id);
      }));
    }
    for (const k of typeKeys) this.consumed.add(k);
    scope.node.addValidation({ validate: () => this.report() });
  }

  /**
   * Props for the construct with id `constructId`, ready to spread into its props (TypeScript).
   *
   * Keys are camelCase at every depth; `removal_policy` is a `RemovalPolicy`.
   *
   * @param constructId the construct's id (the key under `resources`)
   * @returns the props (empty when ddk.json sets none)
   */
  public props(constructId: string): { [key: string]: any } {
    const props = this.convert(constructId, 'camel');
    if (typeof props.removalPolicy === 'string') {
      props.removalPolicy = toRemovalPolicy(props.removalPolicy);
      this.removalPolicyRead.add(constructId);
    }
    return props;
  }

  /**
   * Props for the construct with id `constructId` with snake_case keys at every depth, for
   * Python, where keyword arguments and struct dictionaries are snake_case:
   * `s3.Bucket(self, "ddk-bucket", removal_policy=resources.removal_policy("ddk-bucket"), **resources.props_snake_case("ddk-bucket"))`.
   *
   * `removal_policy` is left out: jsii carries an enum inside a map as a plain string, which a
   * Python construct refuses. Pass `removalPolicy(constructId)` (`removal_policy` in Python)
   * beside it; synthesis warns when an entry's removal policy is read by neither.
   *
   * @param constructId the construct's id (the key under `resources`)
   * @returns the props (empty when ddk.json sets none)
   */
  public propsSnakeCase(constructId: string): { [key: string]: any } {
    const props = this.convert(constructId, 'snake');
    delete props.removal_policy;
    return props;
  }

  /**
   * The `removal_policy` of the construct with id `constructId`.
   *
   * @param constructId the construct's id (the key under `resources`)
   * @returns the removal policy, or undefined when ddk.json sets none
   */
  public removalPolicy(constructId: string): RemovalPolicy | undefined {
    this.consumed.add(constructId);
    this.removalPolicyRead.add(constructId);
    const value = this.environment.resources[constructId]?.removal_policy ?? this.environment.resources[constructId]?.removalPolicy;
    return typeof value === 'string' ? toRemovalPolicy(value) : undefined;
  }

  /** Ids under `resources` that no construct asked for. */
  public get unconsumed(): string[] {
    return Object.keys(this.environment.resources).filter(k => !this.consumed.has(k));
  }

  private convert(constructId: string, keyCase: KeyCase): { [key: string]: any } {
    this.consumed.add(constructId);
    const entry = this.environment.resources[constructId];
    if (entry === undefined || CFN_TYPE.test(constructId)) return {};
    return { ...convertResource(entry, keyCase, []).props };
  }

  private report(): string[] {
    const all = this.scope.node.findAll();
    const stack = all.find(c => Stack.isStack(c)) ?? this.scope;
    const where = (id: string) => `${this.environment.id}: environments.${this.environment.id}.resources[${JSON.stringify(id)}]`;
    const unused = this.unconsumed;
    if (unused.length > 0) {
      const ids = new Set([...all.map(c => c.node.id), ...this.consumed]);
      for (const id of unused) {
        Annotations.of(stack).addWarningV2('ddk-pipelines:unusedResourceSettings',
          `${where(id)} was not used by any construct${didYouMean(id, ids)}. ` +
          'Fix: give the construct this id and pass EnvironmentResources.of(this).props(id) to it, or correct or remove the entry');
      }
    }
    for (const [id, entry] of Object.entries(this.environment.resources)) {
      if (!this.consumed.has(id) || CFN_TYPE.test(id)) continue;
      const hasPolicy = entry.removal_policy !== undefined || entry.removalPolicy !== undefined;
      if (hasPolicy && !this.removalPolicyRead.has(id)) {
        Annotations.of(stack).addWarningV2('ddk-pipelines:removalPolicyNotRead',
          `${where(id)}.removal_policy was read by no construct (props() applies it; propsSnakeCase() leaves it out). ` +
          `Fix: in Python pass removal_policy=EnvironmentResources.of(self).removal_policy("${id}") beside **props_snake_case("${id}"); in TypeScript spread props("${id}")`);
      }
      const pascal = Object.keys(convertResource(entry, 'camel', []).overrides);
      if (pascal.length > 0 && !this.overridden.has(id)) {
        Annotations.of(stack).addWarningV2('ddk-pipelines:cloudFormationPropertiesNotApplied',
          `${where(id)}: the CloudFormation properties ${pascal.map(k => `"${k}"`).join(', ')} were set on no resource: no construct with id "${id}" has a CloudFormation resource as its default child. ` +
          'Fix: write them as construct props (snake_case or camelCase), or under the resource type (e.g. "AWS::DynamoDB::Table")');
      }
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

/**
 * DDK compatibility: `resources["AWS::X::Y"]` sets CloudFormation properties on every resource of
 * that type; PascalCase keys under a construct id set them on that construct's resource (its
 * default child, or the construct itself when it is a CloudFormation resource).
 */
class CloudFormationOverrides implements IAspect {
  constructor(
    private readonly environment: EnvironmentConfig,
    private readonly types: string[],
    private readonly byId: Map<string, { [key: string]: unknown }>,
    private readonly applied: (id: string) => void,
  ) {}

  public visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    if (this.types.includes(node.cfnResourceType)) {
      for (const [prop, value] of Object.entries(cfnTypeProperties(this.environment.resources[node.cfnResourceType]))) {
        node.addPropertyOverride(prop, value);
      }
    }
    const parent = node.node.scope;
    const owner = this.byId.has(node.node.id) ? node.node.id
      : parent && this.byId.has(parent.node.id) && parent.node.defaultChild === node ? parent.node.id
        : undefined;
    if (owner === undefined) return;
    for (const [prop, value] of Object.entries(this.byId.get(owner)!)) node.addPropertyOverride(prop, value);
    this.applied(owner);
  }
}
