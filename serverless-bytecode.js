'use strict';
// A local Serverless plugin: ships the package compiled and lean. Lambda's /var/task is
// read-only, so a package without byte code makes every cold start compile every module it
// imports (about 3x the import time, docs/BENCHMARKS.md, Lambda package). The byte code is
// "unchecked-hash": valid whatever timestamps the zip gives the sources.
// - Before the artifact is built (after serverless-python-requirements installed and slimmed
//   the requirements): strips the libraries' extensions of their debug symbols with the strip
//   of the function's architecture, and replaces the libraries' sources by their byte code
//   (`module.pyc` where `module.py` was, which Python imports without a source). A traceback
//   through a library then names its file and line without quoting it; the package is about
//   3 MB smaller (docs/BENCHMARKS.md, Lambda package).
// - After the artifact is built (and the requirements were added to it): compiles the project's
//   own modules (every source left in the zip), from the zip's own bytes, into __pycache__:
//   their sources stay, for tracebacks that quote them.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

// binutils' strip for the other architecture (Debian: binutils-aarch64-linux-gnu).
const STRIP = { arm64: 'aarch64-linux-gnu-strip', x86_64: 'x86_64-linux-gnu-strip' };

const COMPILE_ZIP = `
import importlib.util, py_compile, sys, tempfile, zipfile
from pathlib import Path
archive = sys.argv[1]
with zipfile.ZipFile(archive) as zipped:
    names = set(zipped.namelist())
    sources = {name: zipped.read(name) for name in names if name.endswith(".py")}
tag = sys.implementation.cache_tag
def compiled_name(name):
    folder, _, stem = name.rpartition("/")
    return (folder + "/" if folder else "") + f"__pycache__/{stem[:-3]}.{tag}.pyc"
missing = {name: source for name, source in sources.items() if compiled_name(name) not in names}
with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zipped:
    for name, source in sorted(missing.items()):
        source_file, target = Path(scratch, "source.py"), Path(scratch, "compiled.pyc")
        source_file.write_bytes(source)
        py_compile.compile(str(source_file), cfile=str(target), dfile=name, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        zipped.write(target, compiled_name(name))
print(f"compiled {len(missing)} modules into {archive}")
`;

class CompileRequirements {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.prepareRequirements(),
      'after:package:createDeploymentArtifacts': () => this.compileArtifact(),
    };
  }

  fail(message) {
    throw new this.serverless.classes.Error(message);
  }

  python() {
    const { service } = this.serverless;
    const python = service.custom.pythonRequirements.pythonBin;
    const version = service.provider.runtime.replace(/^python/, '').split('.');
    const matches = spawnSync(python, ['-c', `import sys; sys.exit(sys.version_info[:2] != (${version}))`]);
    if (matches.status !== 0) {
      this.fail(`${python} is not Python ${version.join('.')}: its byte code would not load on the ${service.provider.runtime} runtime`);
    }
    return python;
  }

  prepareRequirements() {
    const folder = path.join(this.serverless.serviceDir, '.serverless', 'requirements');
    const python = this.python();
    this.strip(folder);
    const compiled = spawnSync(
      python, ['-m', 'compileall', '-q', '-f', '-b', '--invalidation-mode', 'unchecked-hash', folder], { stdio: 'inherit' }
    );
    if (compiled.status !== 0) this.fail(`compiling the requirements in ${folder} failed`);
    for (const source of this.files(folder, (name) => name.endsWith('.py'))) fs.unlinkSync(source);
  }

  files(folder, wanted) {
    const found = [];
    const walk = (directory) => {
      for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
        const entryPath = path.join(directory, entry.name);
        if (entry.isDirectory()) walk(entryPath);
        else if (wanted(entry.name)) found.push(entryPath);
      }
    };
    walk(folder);
    return found;
  }

  strip(folder) {
    const strip = STRIP[this.serverless.service.provider.architecture];
    const extensions = this.files(folder, (name) => /\.so(\.|$)/.test(name));
    if (!extensions.length) return;
    const stripped = spawnSync(strip, ['--strip-debug', ...extensions], { stdio: 'inherit' });
    if (stripped.error || stripped.status !== 0) {
      this.fail(`${strip} could not strip the libraries' extensions (Debian: apt-get install binutils-${strip.replace(/-strip$/, '')})`);
    }
  }

  compileArtifact() {
    const { service } = this.serverless;
    const artifact = service.package.artifact
      || path.join(this.serverless.serviceDir, '.serverless', `${service.service}.zip`);
    const compiled = spawnSync(this.python(), ['-c', COMPILE_ZIP, artifact], { stdio: 'inherit' });
    if (compiled.status !== 0) this.fail(`compiling the sources in ${artifact} failed`);
  }
}

module.exports = CompileRequirements;
