#!/usr/bin/env bash
# Validates the manifests against the Kubernetes API schemas without a cluster: npm's kubernetes-models (JSON
# schemas of every API type, 5.1.0) in a temporary folder. Needs node and the npm registry. Not part of the build;
# ManifestsTest (mvn verify) checks names, ports, selectors and flags across files.
#   deploy/k8s/check-schemas.sh [FILE.yaml ...]     (default: every manifest in deploy/k8s)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
[ $# -gt 0 ] || set -- "$HERE"/configmap.yaml "$HERE"/models-pvc.yaml "$HERE"/workers.yaml "$HERE"/router.yaml "$HERE"/networkpolicy.yaml
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
FILES=(); for f in "$@"; do FILES+=("$(readlink -f "$f")"); done
cd "$WORK"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error kubernetes-models@5.1.0 js-yaml@4 >/dev/null
cat > validate.mjs <<'JS'
import fs from 'node:fs';
import yaml from 'js-yaml';
let n = 0, bad = 0;
for (const f of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(f, 'utf8'))) {
    if (!doc) continue;
    const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
    const Cls = (await import(group === '' ? `kubernetes-models/${version}` : `kubernetes-models/${group}/${version}`))[doc.kind];
    if (!Cls) { bad++; console.log(`FAIL ${f} ${doc.kind}: unknown kind`); continue; }
    n++;
    try { new Cls(doc).validate(); console.log(`OK   ${f} ${doc.kind}/${doc.metadata.name}`); }
    catch (e) { bad++; console.log(`FAIL ${f} ${doc.kind}/${doc.metadata.name}: ${e.message}`); }
  }
}
console.log(`${n} validated, ${bad} invalid`);
process.exit(bad ? 1 : 0);
JS
node validate.mjs "${FILES[@]}"
