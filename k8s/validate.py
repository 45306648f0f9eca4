#!/usr/bin/env python3
"""Validates rendered manifests (`kubectl kustomize k8s/overlays/...`).

- Objects of Kubernetes' own kinds: strictly (unknown fields rejected)
  against the Kubernetes schemas of `kubernetes-validate`, for each
  version given with -k.
- CloudNativePG objects (Cluster, Database, ScheduledBackup, ObjectStore):
  no registry ships their schemas, so against the small schemas below,
  written from CloudNativePG's API reference: the fields Lectern uses,
  their types, the required ones, and no unknown field at the top of
  `spec`. Deeper fields are not checked (docs/operations.md says so).
- monitoring.coreos.com objects are left to k8s/validate-monitoring.mjs.
- Anything else fails: nothing passes unchecked. So does a Secret, which
  must never be committed with values, and a ConfigMap too big for
  `kubectl apply` (the dashboard's).

Usage: validate.py -k 1.30.0 [-k 1.33.0] FILE...
"""

import argparse
import sys

import jsonschema
import kubernetes_validate
import yaml

OBJ = {"type": "object"}
STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
REF = {"type": "object", "required": ["name"], "properties": {"name": STR}, "additionalProperties": False}


def spec(properties, required=()):
    """A CRD object whose `spec` has exactly `properties` (a subset used)."""
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": {"type": "object", "required": ["name"]},
            "spec": {
                "type": "object",
                "required": list(required),
                "properties": properties,
                "additionalProperties": False,
            },
        },
    }


# From https://cloudnative-pg.io/documentation/current/cloudnative-pg.v1/
# (ClusterSpec, DatabaseSpec, ScheduledBackupSpec) and the Barman Cloud
# plugin's ObjectStore: the fields that exist, whether Lectern uses them or not.
CLUSTER_FIELDS = {
    name: OBJ
    for name in [
        "storage", "walStorage", "resources", "affinity", "postgresql", "bootstrap", "managed",
        "backup", "monitoring", "certificates", "superuserSecret", "replica", "inheritedMetadata",
        "nodeMaintenanceWindow", "replicationSlots", "serviceAccountTemplate", "projectedVolumeTemplate",
        "seccompProfile", "ephemeralVolumeSource", "ephemeralVolumesSizeLimit", "probes",
        "podSecurityContext", "securityContext", "imageCatalogRef",
    ]
}
CLUSTER_FIELDS.update({
    "instances": {"type": "integer", "minimum": 1},
    "imageName": STR, "imagePullPolicy": STR, "description": STR, "logLevel": STR,
    "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
    "primaryUpdateMethod": {"enum": ["switchover", "restart"]},
    "priorityClassName": STR, "schedulerName": STR,
    "enableSuperuserAccess": BOOL, "enablePDB": BOOL,
    "minSyncReplicas": INT, "maxSyncReplicas": INT, "startDelay": INT, "stopDelay": INT,
    "smartShutdownTimeout": INT, "switchoverDelay": INT, "failoverDelay": INT,
    "livenessProbeTimeout": INT, "postgresUID": INT, "postgresGID": INT,
    "env": {"type": "array"}, "envFrom": {"type": "array"}, "externalClusters": {"type": "array"},
    "imagePullSecrets": {"type": "array"}, "tablespaces": {"type": "array"},
    "topologySpreadConstraints": {"type": "array"},
    "plugins": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["name"],
            "properties": {"name": STR, "enabled": BOOL, "isWALArchiver": BOOL, "parameters": OBJ},
            "additionalProperties": False,
        },
    },
})

CRD_SCHEMAS = {
    ("postgresql.cnpg.io/v1", "Cluster"): spec(CLUSTER_FIELDS, ["instances", "storage"]),
    ("postgresql.cnpg.io/v1", "Database"): spec(
        {
            "cluster": REF, "name": STR, "owner": STR, "ensure": {"enum": ["present", "absent"]},
            "databaseReclaimPolicy": {"enum": ["retain", "delete"]},
            "template": STR, "encoding": STR, "locale": STR, "localeProvider": STR, "lcCollate": STR,
            "lcCtype": STR, "icuLocale": STR, "icuRules": STR, "builtinLocale": STR,
            "collationVersion": STR, "isTemplate": BOOL, "allowConnections": BOOL,
            "connectionLimit": INT, "tablespace": STR, "extensions": {"type": "array"},
            "schemas": {"type": "array"}, "fdws": {"type": "array"}, "servers": {"type": "array"},
        },
        ["cluster", "name", "owner"],
    ),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): spec(
        {
            "cluster": REF,
            # Six fields: seconds first.
            "schedule": {"type": "string", "pattern": r"^\S+( \S+){5}$"},
            "suspend": BOOL, "immediate": BOOL,
            "backupOwnerReference": {"enum": ["none", "self", "cluster"]},
            "method": {"enum": ["barmanObjectStore", "volumeSnapshot", "plugin"]},
            "target": {"enum": ["primary", "prefer-standby"]},
            "online": BOOL, "onlineConfiguration": OBJ,
            "pluginConfiguration": {
                "type": "object", "required": ["name"],
                "properties": {"name": STR, "parameters": OBJ}, "additionalProperties": False,
            },
        },
        ["cluster", "schedule"],
    ),
    ("barmancloud.cnpg.io/v1", "ObjectStore"): spec(
        {
            "retentionPolicy": {"type": "string", "pattern": r"^[1-9][0-9]*[dwm]$"},
            "instanceSidecarConfiguration": OBJ,
            "configuration": {
                "type": "object", "required": ["destinationPath"],
                "properties": {
                    "destinationPath": {"type": "string", "pattern": r"^(s3|gs|https?)://"},
                    "endpointURL": STR, "endpointCA": OBJ, "s3Credentials": OBJ, "azureCredentials": OBJ,
                    "googleCredentials": OBJ, "wal": OBJ, "data": OBJ, "tags": OBJ, "historyTags": OBJ,
                },
                "additionalProperties": False,
            },
        },
        ["configuration"],
    ),
}
LEFT_TO_MONITORING = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}


def check(resource, versions):
    """Problems with one object, as lines; empty when it validates."""
    key = (resource.get("apiVersion"), resource.get("kind"))
    if key[1] == "Secret":
        return ["a Secret in the manifests: create it in the cluster instead (docs/operations.md)"]
    if key[1] == "ConfigMap" and len(yaml.safe_dump(resource)) > 250_000:
        # kubectl apply keeps a copy in an annotation of at most 256 KiB.
        return ["larger than kubectl apply's 256 KiB last-applied annotation allows"]
    if key in LEFT_TO_MONITORING:
        return []
    if key in CRD_SCHEMAS:
        errors = jsonschema.Draft202012Validator(CRD_SCHEMAS[key]).iter_errors(resource)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
    problems = []
    for version in versions:
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            return [f"no schema for {key[0]} {key[1]}: add one to k8s/validate.py"]
        except kubernetes_validate.ValidationError as error:
            path = "/".join(map(str, error.path))
            problems.append(f"Kubernetes {version}: {path}: {error.message}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", "--kubernetes-version", action="append", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    failed = checked = 0
    for filename in args.files:
        with open(filename, encoding="utf-8") as file:
            for resource in yaml.safe_load_all(file):
                if not resource:
                    continue
                checked += 1
                name = f"{filename}: {resource.get('kind')}/{resource.get('metadata', {}).get('name')}"
                problems = check(resource, args.kubernetes_version)
                for problem in problems:
                    print(f"FAIL {name}: {problem}")
                failed += bool(problems)
    print(f"{checked} objects checked, {failed} failed (Kubernetes {', '.join(args.kubernetes_version)}, strict)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
