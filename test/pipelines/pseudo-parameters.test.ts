import { App, Stack } from 'aws-cdk-lib';
import { foldPseudoParameters, pseudoParameterValues } from '../../lib/pipelines/pseudo-parameters';

const EU = { 'AWS::Partition': 'aws', 'AWS::Region': 'eu-west-1', 'AWS::AccountId': '111111111111', 'AWS::URLSuffix': 'amazonaws.com' };

describe('foldPseudoParameters (pure)', () => {
  test('replaces the four pseudo parameters and folds the Fn::Join that becomes a string', () => {
    const template = {
      Resources: {
        R: {
          Type: 'AWS::X::Y',
          Properties: {
            Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/x']] },
            Host: { 'Fn::Join': ['.', ['s3', { Ref: 'AWS::Region' }, { Ref: 'AWS::URLSuffix' }]] },
            List: [{ Ref: 'AWS::Region' }],
          },
        },
      },
    };
    expect(foldPseudoParameters(template, EU).Resources.R.Properties).toEqual({
      Arn: 'arn:aws:iam::111111111111:role/x',
      Host: 's3.eu-west-1.amazonaws.com',
      List: ['eu-west-1'],
    });
  });

  test('keeps what still needs CloudFormation: other Refs, GetAtt, a Join with one of them, Sub with other variables', () => {
    const props = {
      A: { Ref: 'MyBucket' },
      B: { 'Fn::GetAtt': ['Key', 'Arn'] },
      C: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'MyBucket' }]] },
      D: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${MyBucket}' },
      E: { 'Fn::Sub': ['${AWS::Region}-${X}', { X: 'y' }] },
      F: { Ref: 'AWS::StackName' },
    };
    const folded = foldPseudoParameters({ Resources: { R: { Type: 'AWS::X::Y', Properties: props } } }, EU).Resources.R.Properties;
    expect(folded.A).toEqual(props.A);
    expect(folded.B).toEqual(props.B);
    expect(folded.C).toEqual({ 'Fn::Join': ['', ['arn:', 'aws', ':s3:::', { Ref: 'MyBucket' }]] });
    expect(folded.D).toEqual(props.D);
    expect(folded.E).toEqual(props.E);
    expect(folded.F).toEqual(props.F);
  });

  test('folds an Fn::Sub string of known variables, unescaping ${!…} as CloudFormation does', () => {
    const folded = foldPseudoParameters({ Outputs: { O: { Value: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/* ${!Literal}' } } } }, EU);
    expect(folded.Outputs.O.Value).toBe('arn:aws:kms:eu-west-1:111111111111:key/* ${Literal}');
  });

  test('leaves Parameters and Rules alone and does not change its input', () => {
    const template = {
      Parameters: { P: { Type: 'String', Default: 'x' } },
      Rules: { R: { Assertions: [{ Assert: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } }] } },
      Resources: { R: { Type: 'AWS::X::Y', Properties: { A: { Ref: 'AWS::Region' } } } },
    };
    const before = JSON.stringify(template);
    const folded = foldPseudoParameters(template, EU);
    expect(JSON.stringify(template)).toBe(before);
    expect(folded.Rules).toEqual(template.Rules);
    expect(folded.Resources.R.Properties.A).toBe('eu-west-1');
  });
});

describe('pseudoParameterValues', () => {
  test('the partition and URL suffix come from the region', () => {
    const app = new App();
    expect(pseudoParameterValues(new Stack(app, 'Cn', { env: { account: '111111111111', region: 'cn-north-1' } }))).toEqual({
      'AWS::Partition': 'aws-cn', 'AWS::Region': 'cn-north-1', 'AWS::AccountId': '111111111111', 'AWS::URLSuffix': 'amazonaws.com.cn',
    });
    expect(pseudoParameterValues(new Stack(app, 'Gov', { env: { account: '111111111111', region: 'us-gov-west-1' } }))?.['AWS::Partition']).toBe('aws-us-gov');
  });

  test('nothing to fold without an explicit environment or for a region aws-cdk-lib does not know', () => {
    const app = new App();
    expect(pseudoParameterValues(new Stack(app, 'Agnostic'))).toBeUndefined();
    expect(pseudoParameterValues(new Stack(app, 'Future', { env: { account: '111111111111', region: 'xx-future-1' } }))).toBeUndefined();
  });
});
