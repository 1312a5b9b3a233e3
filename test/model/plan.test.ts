import { DdkConfig } from '../../lib/config';
import { DeliveryPlan, PIPELINE_NAME_VARIABLE, PipelineNameSource, PipelineStrategy, PlanExecutionMode, SourceKind } from '../../lib/model';

const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

/** cicd, then dev, qa and prod: three targets in file order, prod in another region. */
function environments(): { [id: string]: any } {
  return {
    cicd: { account: '111111111111', region: 'eu-west-1' },
    dev: { account: '222222222222', region: 'eu-west-1' },
    qa: { account: '222222222222', region: 'eu-central-1' },
    prod: { account: '333333333333', region: 'us-east-1' },
  };
}

function plan(doc: { [key: string]: any }, file = '/projects/analytics/ddk.json', defaultName?: string): DeliveryPlan {
  const config = DdkConfig.fromObject(doc, file);
  return DeliveryPlan.fromConfig(config, defaultName === undefined ? {} : { defaultName });
}

describe('defaults when the pipeline section is absent', () => {
  // GIVEN a DDK file with an application tag and no pipeline section
  const p = plan({ tags: { application: 'myapp' }, environments: environments() });

  test('the name comes from the application tag', () => {
    expect(p.name).toBe('myapp');
  });

  test('the strategy is cdk-pipelines, executions are SUPERSEDED, the build installs, tests and synthesizes', () => {
    expect(p.strategy).toBe(PipelineStrategy.CDK_PIPELINES);
    expect(p.strategy).toBe('cdk-pipelines');
    expect(p.executionMode).toBe(PlanExecutionMode.SUPERSEDED);
    expect(p.synthCommands).toEqual(['npm ci', 'npm test', 'npx cdk synth']);
    expect(p.useChangeSets).toBe(true);
    expect(p.notifications).toBeUndefined();
    expect(p.stages.map(s => s.rollbackOnFailure)).toEqual(p.stages.map(() => false));
  });

  test('the source is a created CodeCommit repository named after the pipeline, on main', () => {
    expect(p.source).toEqual({ kind: SourceKind.CODECOMMIT, repository: 'myapp', branch: 'main', create: true });
  });

  test('the pipeline is hosted in the cicd environment', () => {
    expect(p.cicd).toMatchObject({ id: 'cicd', account: '111111111111', region: 'eu-west-1' });
    expect(p.cicd.environment).toBe(p.config.cicd);
  });

  test('there is one stage per target environment, in file order, named after it', () => {
    expect(p.stages.map(s => s.name)).toEqual(['dev', 'qa', 'prod']);
    expect(p.stages.map(s => s.targets.map(t => `${t.id}:${t.account}:${t.region}`))).toEqual([
      ['dev:222222222222:eu-west-1'],
      ['qa:222222222222:eu-central-1'],
      ['prod:333333333333:us-east-1'],
    ]);
    for (const s of p.stages) {
      expect(s.requiredChecks).toEqual([]);
      expect(s.tests).toEqual([]);
    }
  });

  test('every stage but the first waits for a manual approval naming the stage', () => {
    expect(p.stages[0].approval).toBeUndefined();
    expect(p.stages[1].approval).toEqual({ comment: 'Approve the deployment of stage qa', reviewUrl: undefined, notify: [], timeoutMinutes: undefined });
    expect(p.stages[2].approval).toEqual({ comment: 'Approve the deployment of stage prod', reviewUrl: undefined, notify: [], timeoutMinutes: undefined });
  });

  test('targets and target accounts follow the stages; accounts are distinct', () => {
    expect(p.targets.map(t => t.id)).toEqual(['dev', 'qa', 'prod']);
    expect(p.targetAccounts).toEqual(['222222222222', '333333333333']);
  });

  test('each target carries its full environment configuration', () => {
    expect(p.targets[0].environment).toBe(p.config.environment('dev'));
  });
});

describe('default stages', () => {
  test('skip the cicd environment wherever it is written in the file', () => {
    // GIVEN cicd written between the targets
    const { cicd, dev, prod } = environments();

    const p = plan({ environments: { prod, cicd, dev } });

    expect(p.stages.map(s => s.name)).toEqual(['prod', 'dev']);
    expect(p.stages.map(s => s.approval === undefined)).toEqual([true, false]);
  });

  test('also apply when the pipeline section has no stages', () => {
    const p = plan({ environments: environments(), pipeline: { name: 'analytics-pipeline' } });

    expect(p.stages.map(s => s.name)).toEqual(['dev', 'qa', 'prod']);
    expect(p.source.repository).toBe('analytics-pipeline');
  });

  test('a single target gets a single stage without approval', () => {
    const { cicd, dev } = environments();

    const p = plan({ environments: { cicd, dev } });

    expect(p.stages).toHaveLength(1);
    expect(p.stages[0].approval).toBeUndefined();
  });
});

describe('the default name', () => {
  test.each([
    [{ application: 'myapp', project: 'other' }, 'myapp'],
    [{ Application: 'MyApp' }, 'MyApp'],
    [{ project: 'proj' }, 'proj'],
    [{ Project: 'Proj' }, 'Proj'],
  ])('comes from the tags %j', (tags, name) => {
    expect(plan({ tags, environments: environments() }).name).toBe(name);
  });

  test('is made a valid pipeline name', () => {
    expect(plan({ tags: { application: ' My App / Analytics ' }, environments: environments() }).name).toBe('My-App-Analytics');
  });

  test('is the folder holding ddk.json when there is no such tag', () => {
    expect(plan({ tags: { owner: 'data' }, environments: environments() }, '/projects/data.all/ddk.json').name).toBe('data.all');
    expect(plan({ environments: environments() }, '/projects/My Project (v2)/ddk.json').name).toBe('My-Project-v2');
  });

  test('is a fixed name when the folder name has no usable character', () => {
    expect(plan({ environments: environments() }, '/projects/###/ddk.json').name).toBe('ddk-pipeline');
  });

  test('inside the pipeline\'s own build (DDK_PIPELINE_NAME recorded), the checkout folder does not rename it', () => {
    // GIVEN a DDK-style file without pipeline.name or tag, deployed from my-data-app/, checked out by CodeBuild into src/
    const doc = { environments: environments() };
    const local = plan(doc, '/home/me/my-data-app/ddk.json');
    expect(local.name).toBe('my-data-app');
    expect(local.nameSource).toBe(PipelineNameSource.FOLDER);
    expect(local.buildEnvironmentVariables).toEqual({ DDK_PIPELINE_NAME: 'my-data-app' });
    const inCodeBuild = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc, '/codebuild/output/src123/src/ddk.json'), { recordedName: local.buildEnvironmentVariables[PIPELINE_NAME_VARIABLE] });
    // THEN the build synthesizes the same name, stack and repository
    expect(inCodeBuild.name).toBe('my-data-app');
    expect(inCodeBuild.cicdStackName).toBe(local.cicdStackName);
    expect(inCodeBuild.source.repository).toBe(local.source.repository);
    expect(inCodeBuild.nameSource).toBe(PipelineNameSource.RECORDED);
    expect(inCodeBuild.nameWarning).toBeUndefined();
  });

  test('a folder-derived name is warned about, with the fix', () => {
    expect(plan({ environments: environments() }, '/home/me/my-data-app/ddk.json').nameWarning).toBe(
      '/home/me/my-data-app/ddk.json: pipeline.name is not set and there is no "application" or "project" tag: the pipeline is named "my-data-app" after the folder holding the file. '
      + 'The pipeline\'s own builds keep this name (they get DDK_PIPELINE_NAME=my-data-app), but a clone in another folder would deploy a second pipeline. Fix: set "pipeline": {"name": "my-data-app"}');
    expect(plan({ tags: { application: 'x' }, environments: environments() }, '/a/b/ddk.json').nameWarning).toBeUndefined();
  });

  test('a recorded name replaces only the folder: a tag or pipeline.name still wins', () => {
    const withTag = DeliveryPlan.fromConfig(DdkConfig.fromObject({ tags: { application: 'tagged' }, environments: environments() }, '/x/src/ddk.json'), { recordedName: 'old' });
    expect([withTag.name, withTag.nameSource]).toEqual(['tagged', PipelineNameSource.TAG]);
    const named = DeliveryPlan.fromConfig(DdkConfig.fromObject({ environments: environments(), pipeline: { name: 'named' } }, '/x/src/ddk.json'), { recordedName: 'old' });
    expect([named.name, named.nameSource]).toEqual(['named', PipelineNameSource.FILE]);
  });

  test('yields to the defaultName option, which yields to pipeline.name', () => {
    const doc = { tags: { application: 'myapp' }, environments: environments() };

    expect(plan(doc, 'ddk.json', 'from-option').name).toBe('from-option');
    expect(plan({ ...doc, pipeline: { name: 'from-file' } }, 'ddk.json', 'from-option').name).toBe('from-file');
  });
});

describe('explicit pipeline settings', () => {
  // GIVEN a pipeline section setting everything
  const explicitPlan = () => plan({
    tags: { application: 'myapp' },
    environments: environments(),
    pipeline: {
      name: 'analytics',
      strategy: 'cdk-pipelines',
      executionMode: 'QUEUED',
      source: { codecommit: { repository: 'analytics-repo', branch: 'release', create: false } },
      synth: { commands: ['yarn install --frozen-lockfile', 'yarn cdk synth'] },
      stages: [
        { name: 'test', environments: ['dev', 'qa'], tests: ['npm run smoke'] },
        {
          name: 'production',
          environments: ['prod'],
          approval: { comment: 'Check the dashboards', reviewUrl: 'https://example.com/release', notify: ['ops@example.com'], timeoutMinutes: 60 },
          requiredChecks: ['ci/integration', 'security/scan'],
          tests: ['npm run smoke -- --prod'],
        },
      ],
    },
  });
  const p = explicitPlan();

  test('name, execution mode and synth commands are taken from the file', () => {
    expect(p.name).toBe('analytics');
    expect(p.executionMode).toBe(PlanExecutionMode.QUEUED);
    expect(p.synthCommands).toEqual(['yarn install --frozen-lockfile', 'yarn cdk synth']);
  });

  test('an imported CodeCommit repository on another branch', () => {
    expect(p.source).toEqual({ kind: SourceKind.CODECOMMIT, repository: 'analytics-repo', branch: 'release', create: false });
  });

  test('stages are taken as written: names, targets, checks and tests', () => {
    expect(p.stages.map(s => s.name)).toEqual(['test', 'production']);
    expect(p.stages.map(s => s.targets.map(t => t.id))).toEqual([['dev', 'qa'], ['prod']]);
    expect(p.stages.map(s => s.requiredChecks)).toEqual([[], ['ci/integration', 'security/scan']]);
    expect(p.stages.map(s => s.tests)).toEqual([['npm run smoke'], ['npm run smoke -- --prod']]);
  });

  test('only the stages that ask for an approval get one; approval settings are kept', () => {
    expect(p.stages[0].approval).toBeUndefined();
    expect(p.stages[1].approval).toEqual({
      comment: 'Check the dashboards',
      reviewUrl: 'https://example.com/release',
      notify: ['ops@example.com'],
      timeoutMinutes: 60,
    });
  });

  test('lists in the plan are copies: changing them does not change the configuration', () => {
    // GIVEN a plan of its own, WHEN its lists are changed
    const mutated = explicitPlan();
    mutated.stages[1].requiredChecks.push('x/y');
    mutated.stages[1].approval!.notify.push('x@example.com');
    mutated.synthCommands.push('echo');

    // THEN the configuration still has the lists as written
    const written = mutated.config.pipeline!;
    expect(written.stages![1].requiredChecks).toEqual(['ci/integration', 'security/scan']);
    expect((written.stages![1].approval as any).notify).toEqual(['ops@example.com']);
    expect(written.synth!.commands).toEqual(['yarn install --frozen-lockfile', 'yarn cdk synth']);
  });
});

describe('approvals are normalised', () => {
  const withApproval = (approval: unknown) => plan({
    environments: environments(),
    pipeline: { stages: [{ name: 'all', environments: ['dev', 'qa', 'prod'], approval }] },
  }).stages[0].approval;

  test('true is an approval with a comment naming the stage and nobody notified', () => {
    expect(withApproval(true)).toEqual({ comment: 'Approve the deployment of stage all', reviewUrl: undefined, notify: [], timeoutMinutes: undefined });
  });

  test('false is no approval', () => {
    expect(withApproval(false)).toBeUndefined();
  });

  test('an empty object is an approval with every default', () => {
    expect(withApproval({})).toEqual(withApproval(true));
  });

  test('a partial object keeps what it sets and defaults the rest', () => {
    expect(withApproval({ notify: ['a@example.com', 'b@example.com'] })).toEqual({
      comment: 'Approve the deployment of stage all',
      reviewUrl: undefined,
      notify: ['a@example.com', 'b@example.com'],
      timeoutMinutes: undefined,
    });
  });

  test('the first stage may have an approval when the file says so', () => {
    const p = plan({
      environments: environments(),
      pipeline: { stages: [{ name: 'dev', environments: ['dev'], approval: true }, { name: 'rest', environments: ['qa', 'prod'] }] },
    });

    expect(p.stages.map(s => s.approval?.comment)).toEqual(['Approve the deployment of stage dev', undefined]);
  });
});

describe('connection source', () => {
  test('a CodeConnections repository is never created and carries its ARN; the branch defaults to main', () => {
    const p = plan({
      tags: { application: 'myapp' },
      environments: environments(),
      pipeline: { source: { connection: { arn: CONNECTION_ARN, repository: 'acme/analytics' } } },
    });

    expect(p.source).toEqual({ kind: SourceKind.CONNECTION, repository: 'acme/analytics', branch: 'main', create: false, connectionArn: CONNECTION_ARN });
  });

  test('the branch of a connection source can be set; codestar-connections ARNs are accepted', () => {
    const arn = 'arn:aws:codestar-connections:eu-west-1:111111111111:connection/abc-123';

    const p = plan({
      environments: environments(),
      pipeline: { source: { connection: { arn, repository: 'acme/analytics', branch: 'trunk' } } },
    });

    expect(p.source).toMatchObject({ kind: SourceKind.CONNECTION, branch: 'trunk', connectionArn: arn });
  });

  test('a CodeCommit source with only a repository is created, on main', () => {
    const p = plan({ environments: environments(), pipeline: { source: { codecommit: { repository: 'repo' } } } });

    expect(p.source).toEqual({ kind: SourceKind.CODECOMMIT, repository: 'repo', branch: 'main', create: true });
  });
});

describe('execution modes', () => {
  test.each(['QUEUED', 'SUPERSEDED', 'PARALLEL'])('%s is taken from the file', mode => {
    expect(plan({ environments: environments(), pipeline: { executionMode: mode } }).executionMode).toBe(mode);
  });
});

describe('Gitflow branches and rollback', () => {
  const doc = (pipeline: object) => ({
    environments: {
      cicd: { account: '111111111111', region: 'eu-west-1' },
      dev: { account: '222222222222', region: 'eu-west-1' },
      qa: { account: '333333333333', region: 'eu-west-1' },
      prod: { account: '444444444444', region: 'eu-west-1' },
    },
    pipeline,
  });

  test('each stage runs from its branch: the stage name, and the source branch for the last stage', () => {
    const result = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc({ strategy: 'codepipeline-gitflow' }), 'ddk.json'));
    expect(result.stages.map(s => [s.name, s.branch])).toEqual([['dev', 'dev'], ['qa', 'qa'], ['prod', 'main']]);
  });

  test('an explicit branch wins, and the last stage follows the source branch', () => {
    const result = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc({
      strategy: 'codepipeline-gitflow',
      source: { codecommit: { repository: 'app', branch: 'trunk' } },
      stages: [{ name: 'dev', environments: ['dev'], branch: 'develop' }, { name: 'prod', environments: ['prod'] }],
    }), 'ddk.json'));
    expect(result.stages.map(s => s.branch)).toEqual(['develop', 'trunk']);
  });

  test('two Gitflow stages on one branch are refused with the fix', () => {
    const config = DdkConfig.fromObject(doc({
      strategy: 'codepipeline-gitflow',
      stages: [{ name: 'dev', environments: ['dev'], branch: 'main' }, { name: 'prod', environments: ['prod'] }],
    }), 'ddk.json');
    expect(() => DeliveryPlan.fromConfig(config)).toThrow('ddk.json: pipeline.stages: stages "dev" and "prod" both run from branch "main"; expected one branch per stage with the codepipeline-gitflow strategy. Fix: set "branch" on one of them');
  });

  test('Gitflow pipeline names <name>-<stage> must fit CodePipeline\'s 100 characters', () => {
    const name = 'a'.repeat(96);
    const config = DdkConfig.fromObject(doc({
      name, strategy: 'codepipeline-gitflow', stages: [{ name: 'dev', environments: ['dev'] }, { name: 'prod', environments: ['prod'] }],
    }), 'ddk.json');
    expect(() => DeliveryPlan.fromConfig(config)).toThrow(`ddk.json: pipeline.name: "${name}" with stage "prod" makes a pipeline name longer than CodePipeline's 100 characters (codepipeline-gitflow names each stage's pipeline <name>-<stage>); expected a pipeline name of at most 95 characters with these stage names. Fix: shorten pipeline.name, or the stage names`);
  });

  test('the default CodeCommit repository is named after the pipeline, without characters CodeCommit refuses', () => {
    const result = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc({ name: 'team@app' }), 'ddk.json'));
    expect(result.source.repository).toBe('team-app');
  });

  test('the CICD stack name is <name>-pipeline, made a valid CloudFormation stack name', () => {
    const stackName = (name: string) => DeliveryPlan.fromConfig(DdkConfig.fromObject(doc({ name }), 'ddk.json')).cicdStackName;
    expect(stackName('myapp')).toBe('myapp-pipeline');
    expect(stackName('my_app.v2@team')).toBe('my-app-v2-team-pipeline');
    expect(stackName('1app')).toBe('p-1app-pipeline');
  });

  test('rollbackOnFailure: the pipeline default, overridden per stage', () => {
    const result = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc({
      rollbackOnFailure: true,
      stages: [{ name: 'dev', environments: ['dev'], rollbackOnFailure: false }, { name: 'prod', environments: ['prod'] }],
    }), 'ddk.json'));
    expect(result.stages.map(s => s.rollbackOnFailure)).toEqual([false, true]);
  });

  test('notifications default to failures, successes and approvals', () => {
    const result = DeliveryPlan.fromConfig(DdkConfig.fromObject(doc({ notifications: { emails: ['ops@example.com'] } }), 'ddk.json'));
    expect(result.notifications).toEqual({ emails: ['ops@example.com'], topicArn: undefined, events: ['execution-failed', 'execution-succeeded', 'approval-needed'] });
  });
});

describe('pipelinesOfStage: the CodePipeline pipelines that run a stage', () => {
  const pipelinesOf = (pipeline: object) => {
    const p = plan({ environments: environments(), pipeline: { name: 'myapp', ...pipeline } }, 'ddk.json');
    return (stage: string) => p.pipelinesOfStage(stage);
  };
  const stages = [{ name: 'dev', environments: ['dev'] }, { name: 'qa', environments: ['qa'], bracket: true }, { name: 'prod', environments: ['prod'] }];

  test('one pipeline (cdk-pipelines, codepipeline-trunk): the plan\'s name for every stage', () => {
    expect(['dev', 'qa', 'prod'].map(pipelinesOf({}))).toEqual([['myapp'], ['myapp'], ['myapp']]);
    expect(pipelinesOf({ strategy: 'codepipeline-trunk' })('prod')).toEqual(['myapp']);
  });

  test('codepipeline-gitflow: the stage\'s own pipeline <name>-<stage>', () => {
    expect(['dev', 'qa', 'prod'].map(pipelinesOf({ strategy: 'codepipeline-gitflow' }))).toEqual([['myapp-dev'], ['myapp-qa'], ['myapp-prod']]);
  });

  test('services: each service\'s pipeline for a per-service stage, the release pipeline for a bracket stage', () => {
    const of = pipelinesOf({
      strategy: 'codepipeline-trunk',
      services: { web: { source: { codecommit: { repository: 'web' } } }, api: { source: { codecommit: { repository: 'api' } } } },
      stages,
    });
    expect(of('dev')).toEqual(['myapp-web', 'myapp-api']);
    expect(of('qa')).toEqual(['myapp-release']);
    expect(of('prod')).toEqual(['myapp-release']);
  });

  test('a stage the plan does not have: an error naming its stages', () => {
    expect(() => pipelinesOf({})('production')).toThrow('ddk.json has no stage "production"; its stages are "dev", "qa", "prod"');
  });
});
