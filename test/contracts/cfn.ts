import { createHash } from 'crypto';
import type { StackTemplate } from './synthesize';

/*
 * Reading synthesized templates: resources by type, and a resolver that computes the value
 * CloudFormation would give an intrinsic (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
 * Fn::Split) from what the template and its environment say. Physical names CloudFormation
 * generates are modelled as `<stack>-<logical id>-<12 characters>`, cut to the type's maximum,
 * so lengths and ARNs are realistic.
 */

/** A resource of a template. */
export interface Resource {
  readonly logicalId: string;
  readonly type: string;
  readonly properties: any;
}

/** The resources of a template, optionally only those of some types. */
export function resourcesOf(template: any, ...types: string[]): Resource[] {
  return Object.entries<any>(template?.Resources ?? {})
    .filter(([, r]) => types.length === 0 || types.includes(r.Type))
    .map(([logicalId, r]) => ({ logicalId, type: r.Type, properties: r.Properties ?? {} }));
}

/** `v` as an array (`undefined` → `[]`). */
export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The partition of a region. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

function urlSuffixOf(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

const NAME_MAX: Record<string, number> = {
  'AWS::S3::Bucket': 63,
  'AWS::IAM::Role': 64,
  'AWS::Lambda::Function': 64,
  'AWS::SNS::Topic': 256,
  'AWS::CodeBuild::Project': 255,
  'AWS::CodePipeline::Pipeline': 100,
  'AWS::DynamoDB::Table': 255,
  'AWS::Logs::LogGroup': 512,
  'AWS::Events::Rule': 64,
  'AWS::CodeStarNotifications::NotificationRule': 64,
};

const NAME_PROPERTY: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::CodeBuild::Project': 'Name',
  'AWS::CodePipeline::Pipeline': 'Name',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Events::Rule': 'Name',
  'AWS::CodeCommit::Repository': 'RepositoryName',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::ApiGateway::RestApi': 'Name',
  'AWS::CodeStarNotifications::NotificationRule': 'Name',
};

function hash(text: string, length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string {
  const bytes = createHash('sha256').update(text).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i % bytes.length] % alphabet.length];
  return out;
}

function uuidOf(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Resolves intrinsics of one stack's template to the values CloudFormation would produce. */
export class Resolver {
  /** Resolvers of every stack of an output. */
  public static forStacks(stacks: StackTemplate[]): Map<StackTemplate, Resolver> {
    return new Map(stacks.map(s => [s, new Resolver(s)]));
  }

  public readonly partition: string;
  private readonly resources: Record<string, any>;

  constructor(public readonly stack: Pick<StackTemplate, 'stackName' | 'account' | 'region' | 'template'>) {
    this.partition = partitionOf(stack.region);
    this.resources = stack.template?.Resources ?? {};
  }

  /** The value of a pseudo parameter, or undefined. */
  public pseudo(name: string): string | undefined {
    switch (name) {
      case 'AWS::Partition': return this.partition;
      case 'AWS::Region': return this.stack.region;
      case 'AWS::AccountId': return this.stack.account;
      case 'AWS::URLSuffix': return urlSuffixOf(this.stack.region);
      case 'AWS::StackName': return this.stack.stackName;
      case 'AWS::NoValue': return undefined;
      default: return undefined;
    }
  }

  /**
   * The value of `v` with every intrinsic resolved, or undefined when some part is unknown
   * (an attribute this resolver does not model, a parameter without default, an import).
   */
  public resolve(v: any): any {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      const items = v.map(x => this.resolve(x));
      return items.some(x => x === undefined) ? undefined : items;
    }
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) return this.intrinsic(keys[0], v[keys[0]]);
    const out: Record<string, any> = {};
    for (const k of keys) {
      const r = this.resolve(v[k]);
      if (r === undefined) return undefined;
      out[k] = r;
    }
    return out;
  }

  /** `resolve(v)` as a string, or undefined. */
  public string(v: any): string | undefined {
    const r = this.resolve(v);
    if (typeof r === 'string') return r;
    if (typeof r === 'number' || typeof r === 'boolean') return String(r);
    return undefined;
  }

  /**
   * `v` with every intrinsic resolved; what cannot be resolved is replaced by `placeholder`
   * (by default a 64-character marker), so a size stays an honest estimate.
   */
  public resolveLoosely(v: any, placeholder = `UNRESOLVED-${'x'.repeat(53)}`): any {
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return v.map(x => this.resolveLoosely(x, placeholder));
    const keys = Object.keys(v);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      const r = this.resolve(v);
      if (r !== undefined) return r;
      if (keys[0] === 'Fn::Join' && Array.isArray(v[keys[0]])) {
        const [d, parts] = v[keys[0]];
        return asArray<any>(parts).map(p => this.resolveLoosely(p, placeholder)).map(p => (typeof p === 'string' ? p : JSON.stringify(p))).join(d);
      }
      return placeholder;
    }
    return Object.fromEntries(keys.map(k => [k, this.resolveLoosely(v[k], placeholder)]));
  }

  /** The name CloudFormation gives (or the template sets for) a resource. */
  public physicalName(logicalId: string): string | undefined {
    const r = this.resources[logicalId];
    if (!r) return undefined;
    const prop = NAME_PROPERTY[r.Type];
    if (prop && r.Properties?.[prop] !== undefined) return this.string(r.Properties[prop]);
    const max = NAME_MAX[r.Type] ?? 128;
    const suffix = hash(`${this.stack.stackName}/${logicalId}`, 12);
    let name = `${this.stack.stackName}-${logicalId}`.slice(0, max - 13) + `-${suffix}`;
    if (r.Type === 'AWS::S3::Bucket') name = name.toLowerCase();
    return name;
  }

  /** What `Ref` returns for a resource. */
  public ref(logicalId: string): string | undefined {
    const params = this.stack.template?.Parameters ?? {};
    if (params[logicalId]) return params[logicalId].Default === undefined ? undefined : String(params[logicalId].Default);
    const r = this.resources[logicalId];
    if (!r) return undefined;
    switch (r.Type) {
      case 'AWS::KMS::Key': return uuidOf(`${this.stack.stackName}/${logicalId}`);
      case 'AWS::SNS::Topic': return this.getAtt(logicalId, 'TopicArn');
      case 'AWS::CodeCommit::Repository': return uuidOf(`${this.stack.stackName}/${logicalId}`);
      case 'AWS::ApiGateway::RestApi': return hash(`${this.stack.stackName}/${logicalId}`, 10, 'abcdefghijklmnopqrstuvwxyz0123456789');
      case 'AWS::IAM::Policy': return `${this.stack.stackName.slice(0, 20)}-${logicalId.slice(0, 30)}-${hash(logicalId, 12)}`;
      default: return this.physicalName(logicalId);
    }
  }

  /** What `Fn::GetAtt` returns, for the attributes the contracts need. */
  public getAtt(logicalId: string, attribute: string): string | undefined {
    const r = this.resources[logicalId];
    if (!r) return undefined;
    const p = this.partition;
    const { region, account } = this.stack;
    const name = () => this.physicalName(logicalId);
    switch (`${r.Type}.${attribute}`) {
      case 'AWS::S3::Bucket.Arn': return `arn:${p}:s3:::${name()}`;
      case 'AWS::S3::Bucket.DomainName': return `${name()}.s3.${urlSuffixOf(region)}`;
      case 'AWS::S3::Bucket.RegionalDomainName': return `${name()}.s3.${region}.${urlSuffixOf(region)}`;
      case 'AWS::KMS::Key.Arn': return `arn:${p}:kms:${region}:${account}:key/${this.ref(logicalId)}`;
      case 'AWS::KMS::Key.KeyId': return this.ref(logicalId);
      case 'AWS::IAM::Role.Arn': return `arn:${p}:iam::${account}:role${this.string(r.Properties?.Path) ?? '/'}${name()}`;
      case 'AWS::IAM::Role.RoleId': return `AROA${hash(logicalId, 17)}`;
      case 'AWS::SNS::Topic.TopicArn': return `arn:${p}:sns:${region}:${account}:${name()}`;
      case 'AWS::SNS::Topic.TopicName': return name();
      case 'AWS::Lambda::Function.Arn': return `arn:${p}:lambda:${region}:${account}:function:${name()}`;
      case 'AWS::CodeBuild::Project.Arn': return `arn:${p}:codebuild:${region}:${account}:project/${name()}`;
      case 'AWS::CodeCommit::Repository.Arn': return `arn:${p}:codecommit:${region}:${account}:${name()}`;
      case 'AWS::CodeCommit::Repository.Name': return name();
      case 'AWS::CodeCommit::Repository.CloneUrlHttp': return `https://git-codecommit.${region}.${urlSuffixOf(region)}/v1/repos/${name()}`;
      case 'AWS::DynamoDB::Table.Arn': return `arn:${p}:dynamodb:${region}:${account}:table/${name()}`;
      case 'AWS::Logs::LogGroup.Arn': return `arn:${p}:logs:${region}:${account}:log-group:${name()}:*`;
      case 'AWS::Events::Rule.Arn': return `arn:${p}:events:${region}:${account}:rule/${name()}`;
      case 'AWS::ApiGateway::RestApi.RootResourceId': return hash(`${logicalId}/root`, 10, 'abcdefghijklmnopqrstuvwxyz0123456789');
      case 'AWS::ApiGateway::RestApi.RestApiId': return this.ref(logicalId);
      case 'AWS::CodePipeline::Pipeline.Version': return '1';
      default: return undefined;
    }
  }

  /** The value of `${name}` in an Fn::Sub: its own variables, pseudo parameters, Ref or GetAtt. */
  private subVariable(name: string, vars: Record<string, any> | undefined): string | undefined {
    if (vars && vars[name] !== undefined) return this.string(vars[name]);
    if (name.startsWith('AWS::')) return this.pseudo(name);
    if (!name.includes('.')) return this.ref(name);
    const [id, attr] = name.split(/\.(.+)/);
    return this.getAtt(id, attr);
  }

  private intrinsic(fn: string, arg: any): any {
    switch (fn) {
      case 'Ref':
        return typeof arg === 'string' ? (arg.startsWith('AWS::') ? this.pseudo(arg) : this.ref(arg)) : undefined;
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
        return typeof id === 'string' && typeof attr === 'string' ? this.getAtt(id, attr) : undefined;
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2) return undefined;
        const parts = this.resolve(arg[1]);
        return Array.isArray(parts) && parts.every(x => typeof x === 'string' || typeof x === 'number') ? parts.join(arg[0]) : undefined;
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
        if (typeof text !== 'string') return undefined;
        let unknown = false;
        const out = text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
          if (name.startsWith('!')) return `\${${name.slice(1)}}`;
          const value = this.subVariable(name, vars);
          if (value === undefined) unknown = true;
          return value ?? '';
        });
        return unknown ? undefined : out;
      }
      case 'Fn::Select': {
        if (!Array.isArray(arg)) return undefined;
        const index = Number(this.resolve(arg[0]));
        const list = this.resolve(arg[1]);
        return Array.isArray(list) ? list[index] : undefined;
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg)) return undefined;
        const s = this.string(arg[1]);
        return s === undefined ? undefined : s.split(arg[0]);
      }
      default:
        return undefined;
    }
  }
}
