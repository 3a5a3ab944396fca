'use strict';
// A local Serverless plugin: ships the Python requirements compiled. Lambda's /var/task is
// read-only, so a package without byte code makes every cold start compile every library it
// imports (about 3x the import time, docs/BENCHMARKS.md, Lambda package). The byte code is
// "unchecked-hash": valid whatever timestamps the zip gives the sources. It runs after
// serverless-python-requirements has installed (and slimmed) the requirements, before they
// are added to the zip.
const { spawnSync } = require('child_process');
const path = require('path');

class CompileRequirements {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:createDeploymentArtifacts': () => this.compile() };
  }

  compile() {
    const { service } = this.serverless;
    const python = service.custom.pythonRequirements.pythonBin;
    const version = service.provider.runtime.replace(/^python/, '').split('.');
    const folder = path.join(this.serverless.serviceDir, '.serverless', 'requirements');
    const matches = spawnSync(python, ['-c', `import sys; sys.exit(sys.version_info[:2] != (${version}))`]);
    if (matches.status !== 0) {
      throw new this.serverless.classes.Error(
        `${python} is not Python ${version.join('.')}: its byte code would not load on the ${service.provider.runtime} runtime`
      );
    }
    const compiled = spawnSync(
      python, ['-m', 'compileall', '-q', '-f', '--invalidation-mode', 'unchecked-hash', folder], { stdio: 'inherit' }
    );
    if (compiled.status !== 0) {
      throw new this.serverless.classes.Error(`compiling the requirements in ${folder} failed`);
    }
  }
}

module.exports = CompileRequirements;
