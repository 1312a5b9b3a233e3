import { Stack, Stage, Token, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';

/*
 * cdk-nag (AwsSolutions) findings on the policies aws-cdk-lib generates for a pipeline,
 * acknowledged one finding id at a time, each with the reason it is acceptable.
 * Everything here is computed from the constructs, so a new finding is never hidden.
 */

const GRANT_ACTIONS: Record<string, string> = {
  's3:GetObject*': 'aws-cdk-lib grantRead action group (GetObject, GetObjectVersion, …), limited to the pipeline\'s artifact buckets',
  's3:GetBucket*': 'aws-cdk-lib grantRead action group (GetBucketLocation, …), limited to the pipeline\'s artifact buckets',
  's3:List*': 'aws-cdk-lib grantRead action group (ListBucket, …), limited to the pipeline\'s artifact buckets',
  's3:DeleteObject*': 'aws-cdk-lib grantWrite action group, limited to the pipeline\'s artifact buckets (CodePipeline overwrites artifacts)',
  's3:Abort*': 'aws-cdk-lib grantWrite action group (AbortMultipartUpload), limited to the pipeline\'s artifact buckets',
  'kms:GenerateDataKey*': 'aws-cdk-lib grantEncrypt on the pipeline\'s artifact keys only (GenerateDataKey, GenerateDataKeyWithoutPlaintext)',
  'kms:ReEncrypt*': 'aws-cdk-lib grantEncryptDecrypt on the pipeline\'s artifact keys only (ReEncryptFrom/To)',
};

/** Acknowledges the findings on the policies of a built pipeline under `scope`. */
export function acknowledgePipelineFindings(scope: IConstruct, codePipeline: codepipeline.Pipeline, buckets: s3.IBucket[]): void {
  const ack = Validations.of(scope);
  for (const [action, reason] of Object.entries(GRANT_ACTIONS)) {
    ack.acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason });
  }
  const stack = Stack.of(scope);
  const partition = partitionInFindings(stack);
  const objectArns: string[] = [];
  for (const b of buckets) {
    const cfn = b.node.defaultChild as s3.CfnBucket | undefined;
    objectArns.push(cfn ? `<${stack.getLogicalId(cfn)}.Arn>/*` : `arn:${partition}:s3:::${b.bucketName}/*`);
  }
  for (const support of Object.values(codePipeline.crossRegionSupport)) {
    objectArns.push(`arn:${partition}:s3:::${stack.resolve(support.replicationBucket.bucketName)}/*`);
  }
  for (const arn of objectArns) {
    ack.acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arn}]`,
      reason: 'Objects of the pipeline\'s own artifact bucket: CodePipeline names artifact objects per execution, so no narrower ARN exists.',
    });
  }

  const own = constructsOfStack(scope);
  for (const node of own) {
    if (node instanceof codebuild.Project) {
      const id = stack.getLogicalId(node.node.defaultChild as codebuild.CfnProject);
      ack.acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${partition}:logs:${stack.region}:${stack.account}:log-group:/aws/codebuild/<${id}>:*]`,
        reason: 'The CodeBuild project\'s own log group; CodeBuild creates one log stream per build.',
      });
      ack.acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:${partition}:codebuild:${stack.region}:${stack.account}:report-group/<${id}>-*]`,
        reason: 'The CodeBuild project\'s own test-report groups, named after the project.',
      });
    }
  }

  const pipelinePolicy = codePipeline.role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  for (const region of Object.keys(codePipeline.crossRegionSupport)) {
    Validations.of(pipelinePolicy ?? scope).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${region}:${stack.account}:key/*]`,
      reason: `KMS use on the replication key of the ${region} artifact bucket: aws-cdk-lib references it by alias from another stack, so its ARN is unknown here; the grant is limited to keys of the CICD account in ${region} (ScopeReplicationKeyGrants), and the key's own policy limits its use to this pipeline.`,
    });
  }
  const selfMutation = own.find(c => c.node.path.endsWith('UpdatePipeline/SelfMutation/Role/DefaultPolicy'));
  if (selfMutation) {
    Validations.of(selfMutation).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:*:iam::${stack.account}:role/*]`,
      reason: 'Self-mutation assumes the CICD account\'s CDK bootstrap roles; the statement\'s condition limits it to roles tagged aws-cdk:bootstrap-role (deploy, file and image publishing).',
    });
  }
}

/**
 * The partition as it appears in cdk-nag's finding ids for `stack`: a literal when aws-cdk-lib
 * knows it (`@aws-cdk/core:enablePartitionLiterals` and a known region), else cdk-nag's
 * rendering of the `AWS::Partition` reference.
 */
function partitionInFindings(stack: Stack): string {
  return Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
}

/**
 * The constructs under `scope` that belong to its stack: the walk does not enter nested Stages
 * (the application stages, whose stacks have their own findings and can be many).
 */
function constructsOfStack(scope: IConstruct): IConstruct[] {
  const out: IConstruct[] = [];
  const visit = (c: IConstruct): void => {
    out.push(c);
    for (const child of c.node.children) if (!Stage.isStage(child)) visit(child);
  };
  visit(scope);
  return out;
}
