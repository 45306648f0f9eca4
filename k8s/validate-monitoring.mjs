// Validates the ServiceMonitor and PrometheusRule objects of rendered
// manifests against the Prometheus Operator's CRD schemas, as shipped by
// the npm package @kubernetes-models/prometheus-operator (types, required
// fields, patterns such as durations; unknown fields are NOT rejected).
//
// Usage: node k8s/validate-monitoring.mjs NODE_MODULES_DIR FILE...
// (NODE_MODULES_DIR holds @kubernetes-models/prometheus-operator and js-yaml.)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, ...files] = process.argv.slice(2);
const load = (path) => import(pathToFileURL(join(modules, path)).href);
const yaml = (await load("js-yaml/dist/js-yaml.mjs")).default;
const v1 = await load("@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/index.js");
const models = { ServiceMonitor: v1.ServiceMonitor, PrometheusRule: v1.PrometheusRule };

let checked = 0;
let failed = 0;
for (const file of files) {
  for (const object of yaml.loadAll(readFileSync(file, "utf8"))) {
    if (!object || object.apiVersion !== "monitoring.coreos.com/v1") continue;
    const name = `${file}: ${object.kind}/${object.metadata?.name}`;
    checked++;
    const Model = models[object.kind];
    try {
      if (!Model) throw new Error("no schema for this kind: add it to k8s/validate-monitoring.mjs");
      new Model(object).validate();
    } catch (error) {
      failed++;
      console.log(`FAIL ${name}: ${error.message}`);
    }
  }
}
console.log(`${checked} monitoring objects checked, ${failed} failed`);
process.exit(failed ? 1 : 0);
