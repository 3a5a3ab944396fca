'use strict';
// A local Serverless plugin: what a production stage needs around the functions, derived from
// serverless.yml's params and from the application itself, so that nothing is written twice.
// - Network: the functions join the VPC of custom.network (comma-separated ids); a stage listed in
//   custom.network.requiredOn refuses to package without one; with custom.network.endpoints the
//   stack creates interface endpoints for SSM and EventBridge (for subnets without NAT).
// - Least privilege: one IAM role per function, reading only the SSM parameters the function
//   reads (common.ssm_secrets.FUNCTION_PARAMETERS, asked of the application's Python), calling
//   PutEvents only for custom.publishers, sending to its on-failure destination only if it has one.
// - Alarms per function (errors, throttles, duration near the timeout) to the AlarmTopic.
// - Reserved concurrency 0 means unset (Lambda would read 0 as "never run").
const { spawnSync } = require('child_process');

const ALARM_PERIOD_SECONDS = 300;
const DURATION_ALARM_SHARE = 0.8; // of the function's timeout

const partitionArn = (...parts) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ...parts]] });
const ids = (text) => String(text || '').split(',').map((id) => id.trim()).filter(Boolean);

class ProductionStage {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:initialize': () => this.apply() };
  }

  fail(message) {
    throw new this.serverless.classes.Error(message);
  }

  apply() {
    const { service } = this.serverless;
    this.naming = this.serverless.getProvider('aws').naming;
    this.stage = this.serverless.getProvider('aws').getStage();
    this.resources = service.resources.Resources;
    this.network(service.custom.network);
    const parameters = this.functionParameters(service);
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      if (!(name in parameters)) this.fail(`common.ssm_secrets.FUNCTION_PARAMETERS lists no parameters for ${name}`);
      if (Number(fn.reservedConcurrency) === 0) delete fn.reservedConcurrency;
      fn.role = this.role(service, name, fn, parameters[name]);
      this.alarms(service, name, fn);
    }
  }

  network(network) {
    const subnetIds = ids(network.subnetIds);
    const securityGroupIds = ids(network.securityGroupIds);
    if (!subnetIds.length || !securityGroupIds.length) {
      if (network.requiredOn.includes(this.stage)) {
        this.fail(`stage ${this.stage} needs a network: set the params subnetIds and securityGroupIds (README, Deploying: the network)`);
      }
      return;
    }
    this.serverless.service.provider.vpc = { subnetIds, securityGroupIds };
    if (String(network.endpoints) !== 'true') return;
    if (!network.vpcId) this.fail('the param vpcEndpoints needs the param vpcId (the VPC of subnetIds)');
    for (const [logicalId, service] of [['SsmVpcEndpoint', 'ssm'], ['EventsVpcEndpoint', 'events']]) {
      this.resources[logicalId] = {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: {
          VpcEndpointType: 'Interface',
          ServiceName: { 'Fn::Sub': `com.amazonaws.\${AWS::Region}.${service}` },
          VpcId: network.vpcId,
          SubnetIds: subnetIds,
          SecurityGroupIds: securityGroupIds, // must admit HTTPS (443) from themselves
          PrivateDnsEnabled: true,
        },
      };
    }
  }

  functionParameters(service) {
    const python = service.custom.pythonRequirements.pythonBin;
    const script = 'import json; from common.ssm_secrets import FUNCTION_PARAMETERS as p; print(json.dumps(p))';
    const asked = spawnSync(python, ['-I', '-c', `import sys; sys.path.insert(0, "."); ${script}`], {
      cwd: this.serverless.serviceDir,
      encoding: 'utf8',
    });
    if (asked.status !== 0) this.fail(`reading common.ssm_secrets.FUNCTION_PARAMETERS with ${python} failed: ${asked.stderr}`);
    return JSON.parse(asked.stdout);
  }

  role(service, name, fn, parameters) {
    const logicalId = `${this.naming.getNormalizedFunctionName(name)}Role`;
    const prefix = service.provider.environment.SECRETS_SSM_PREFIX.replace(/\/+$/, '');
    const statements = [
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: partitionArn(':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' },
          `:log-group:/aws/lambda/${fn.name}:*`),
      },
    ];
    if (parameters.length) {
      // SecureStrings under the AWS-managed key (alias/aws/ssm) need no kms statement.
      statements.push({
        Effect: 'Allow',
        Action: ['ssm:GetParameters'],
        Resource: parameters.map((parameter) =>
          partitionArn(':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:parameter${prefix}/${parameter}`)),
      });
    }
    if (service.custom.publishers.includes(name)) {
      statements.push({ Effect: 'Allow', Action: ['events:PutEvents'], Resource: { 'Fn::GetAtt': ['EventBus', 'Arn'] } });
    }
    const onFailure = fn.destinations && fn.destinations.onFailure;
    if (onFailure) {
      if (onFailure.type !== 'sqs') this.fail(`${name}: only an sqs on-failure destination is supported`);
      statements.push({ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: onFailure.arn });
    }
    const managed = service.provider.vpc
      ? [partitionArn(':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole')]
      : [];
    this.resources[logicalId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
        },
        ManagedPolicyArns: managed,
        Policies: [{ PolicyName: `${name}-${this.stage}`, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
      },
    };
    return logicalId;
  }

  alarms(service, name, fn) {
    const lambda = this.naming.getNormalizedFunctionName(name);
    const timeout = fn.timeout || service.provider.timeout;
    const alarm = (kind, metric, statistic, threshold, description) => {
      this.resources[`${lambda}${kind}Alarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: `${fn.name}: ${description}`,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: fn.name }],
          Statistic: statistic,
          Period: ALARM_PERIOD_SECONDS,
          EvaluationPeriods: 1,
          Threshold: threshold,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
          OKActions: [{ Ref: 'AlarmTopic' }],
        },
        DependsOn: [this.naming.getLambdaLogicalId(name)],
      };
    };
    alarm('Errors', 'Errors', 'Sum', 0, 'an invocation failed (a scheduled run included)');
    alarm('Throttles', 'Throttles', 'Sum', 0, 'invocations were throttled');
    alarm('Duration', 'Duration', 'Maximum', Math.floor(timeout * 1000 * DURATION_ALARM_SHARE),
      `an invocation ran past ${DURATION_ALARM_SHARE * 100}% of its ${timeout} s timeout`);
  }
}

module.exports = ProductionStage;
