#!/usr/bin/env python3
"""A Drydock provider for Amazon EKS through the AWS CLI (protocol drydock/provider/v1, see
docs/providers.md). Members join as exec:{provider}/{region}/{cluster}, e.g.
exec:eks/us-east-1/prod-a.

    provider.py VERB    (request on standard input, answer on standard output)

Environment:
    EKS_REGIONS             regions to list clusters in, comma-separated (required)
    EKS_STATE_DIR           where operations are recorded, one file each (required; keep it
                            on a disk that survives restarts)
    EKS_AMI_TYPES           AMI types offered in the catalog (default
                            AL2023_x86_64_STANDARD,AL2_x86_64)
    EKS_RETRY_AFTER_SECONDS how long Drydock should wait between looks at an upgrade (default 60)
    AWS_CLI                 the AWS CLI to run (default: aws, found on PATH)
    AWS_PROFILE, AWS_ACCESS_KEY_ID, …   the AWS CLI's own credentials, as usual

How EKS maps to Drydock's model:
  * EKS versions are minors ("1.30"); Drydock's are major.minor.patch: they are reported as
    "1.30.0", and an upgrade to "1.31.0" asks EKS for "1.31" (EKS manages patches itself).
  * A managed node group is a node pool: count is its desired size, osSku its AMI type with "_"
    as "-" (AL2023-x86-64-STANDARD), and the node image's release is the date of its AMI release
    ("1.30.4-20241121" → AL2023-x86-64-STANDARD-20241121). Self-managed nodes, Fargate and
    CUSTOM AMI node groups are not pools (Drydock cannot upgrade them through EKS).
  * An upgrade is a sequence of EKS updates: the control plane (update-cluster-version), then
    each node group in turn (update-nodegroup-version, to the newest AMI release for its
    version). The operation record in EKS_STATE_DIR is written before anything is asked of EKS,
    and every update carries a client request token derived from the operation id: the same
    operation id never starts a second update.
"""

import fcntl
import hashlib
import json
import os
import subprocess
import sys

EX_TEMPFAIL = 75
API_VERSION = "drydock/provider/v1"

# Words in the AWS CLI's error output that mean "try again later".
TRANSIENT = ("Throttling", "TooManyRequests", "RequestLimitExceeded", "ServerException",
             "ServiceUnavailable", "Could not connect", "Connect timeout", "Read timeout",
             "ResourceInUseException", "RequestExpired")
NOT_FOUND = "ResourceNotFoundException"

# AMI types → the SSM path of their recommended release, per Kubernetes minor.
SSM_PATHS = {
    "AL2023_x86_64_STANDARD": "amazon-linux-2023/x86_64/standard",
    "AL2023_ARM_64_STANDARD": "amazon-linux-2023/arm64/standard",
    "AL2_x86_64": "amazon-linux-2",
    "AL2_ARM_64": "amazon-linux-2-arm64",
}


class Refused(Exception):
    """A permanent failure: exit 1 with the reason."""


class TryLater(Exception):
    """A transient failure: exit 75 with the reason."""


class NotFound(Exception):
    """The cluster does not exist."""


def aws(*args):
    """Runs the AWS CLI and returns its JSON output, or raises what its failure means."""
    cli = os.environ.get("AWS_CLI", "aws")
    done = subprocess.run([cli, *args, "--output", "json"], capture_output=True, text=True)
    if done.returncode == 0:
        return json.loads(done.stdout or "{}")
    error = (done.stderr or "").strip() or f"aws {args[0]} {args[1]} exited with {done.returncode}"
    if NOT_FOUND in error:
        raise NotFound(error)
    if any(word in error for word in TRANSIENT):
        raise TryLater(error)
    raise Refused(error)


def split(cluster):
    """'us-east-1/prod-a' → ('us-east-1', 'prod-a')."""
    region, _, name = cluster.partition("/")
    if not region or not name:
        raise Refused(f"cluster {cluster!r} is not region/name, e.g. us-east-1/prod-a")
    return region, name


def minor(version):
    """'1.30' or '1.30.0' → '1.30'."""
    return ".".join(version.split(".")[:2])


def family(ami_type):
    return ami_type.replace("_", "-")


def release_date(release_version):
    """'1.30.4-20241121' → '20241121'."""
    return release_version.rsplit("-", 1)[-1]


def regions():
    names = [r.strip() for r in os.environ.get("EKS_REGIONS", "").split(",") if r.strip()]
    if not names:
        raise Refused("EKS_REGIONS names no region (e.g. EKS_REGIONS=us-east-1,eu-west-1)")
    return names


# --- observing -----------------------------------------------------------------------------

def observe_cluster(cluster):
    region, name = split(cluster)
    described = aws("eks", "describe-cluster", "--region", region, "--name", name)["cluster"]
    pools = []
    groups = aws("eks", "list-nodegroups", "--region", region, "--cluster-name", name)
    for group in groups.get("nodegroups", []):
        ng = aws("eks", "describe-nodegroup", "--region", region, "--cluster-name", name,
                 "--nodegroup-name", group)["nodegroup"]
        if ng.get("amiType", "CUSTOM") == "CUSTOM" or not ng.get("releaseVersion"):
            continue
        pools.append({
            "name": ng["nodegroupName"],
            "count": ng.get("scalingConfig", {}).get("desiredSize", 0),
            "kubernetesVersion": minor(ng["version"]) + ".0",
            "osSku": family(ng["amiType"]),
            "nodeImageVersion": f"{family(ng['amiType'])}-{release_date(ng['releaseVersion'])}",
        })
    return {"location": region, "kubernetesVersion": minor(described["version"]) + ".0",
            "nodePools": pools}


def verb_observe(request):
    answers = []
    for cluster in request["clusters"]:
        try:
            answers.append({"name": cluster, "state": observe_cluster(cluster)})
        except NotFound as why:
            answers.append({"name": cluster, "error": {"code": "ClusterNotFound", "message": str(why)}})
        except TryLater as why:
            answers.append({"name": cluster, "error": {"code": "Unavailable", "message": str(why), "transient": True}})
        except Refused as why:
            answers.append({"name": cluster, "error": {"code": "AwsError", "message": str(why)}})
    return {"clusters": answers}


def verb_list(request):
    clusters = []
    for region in regions():
        for name in aws("eks", "list-clusters", "--region", region).get("clusters", []):
            clusters.append(f"{region}/{name}")
    return {"clusters": clusters}


def verb_catalog(request):
    first = regions()[0]
    listed = aws("eks", "describe-cluster-versions", "--region", first)
    minors = sorted({minor(v["clusterVersion"]) for v in listed.get("clusterVersions", [])},
                    key=lambda m: tuple(int(p) for p in m.split(".")))
    ami_types = [t.strip() for t in os.environ.get("EKS_AMI_TYPES", "AL2023_x86_64_STANDARD,AL2_x86_64").split(",") if t.strip()]
    images = {}
    for region in regions():
        images[region] = {}
        for ami_type in ami_types:
            if ami_type not in SSM_PATHS:
                raise Refused(f"EKS_AMI_TYPES: no known SSM path for {ami_type}")
            dates = set()
            for m in minors:
                parameter = f"/aws/service/eks/optimized-ami/{m}/{SSM_PATHS[ami_type]}/recommended/release_version"
                try:
                    value = aws("ssm", "get-parameter", "--region", region, "--name", parameter)
                except (NotFound, Refused):
                    continue  # no AMI of this type for this version (AL2 ends at 1.32)
                dates.add(release_date(value["Parameter"]["Value"]))
            if dates:
                images[region][family(ami_type)] = sorted(dates)
    return {"kubernetesVersions": [m + ".0" for m in minors], "nodeImages": images}


# --- upgrading -----------------------------------------------------------------------------

def token(operation_id, step):
    """A client request token (at most 64 characters) unique to this operation and step."""
    return hashlib.sha256(f"{operation_id}#{step}".encode()).hexdigest()[:64]


def record_path(operation_id):
    directory = os.environ.get("EKS_STATE_DIR")
    if not directory:
        raise Refused("EKS_STATE_DIR is not set")
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, hashlib.sha256(operation_id.encode()).hexdigest() + ".json")


def save(path, record):
    temp = path + ".tmp"
    with open(temp, "w") as f:
        json.dump(record, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)


def steps_of(target):
    """The EKS updates an upgrade takes, in order."""
    steps = []
    if target.get("controlPlane"):
        steps.append({"kind": "cluster", "version": minor(target["controlPlane"]["to"])})
    for pool in target.get("nodePools", []):
        step = {"kind": "nodegroup", "nodegroup": pool["name"]}
        if pool.get("kubernetesVersion"):
            step["version"] = minor(pool["kubernetesVersion"]["to"])
        steps.append(step)
    return steps


def start_step(record, step, index):
    region, name = split(record["cluster"])
    args = ["--region", region, "--client-request-token", token(record["operationId"], index)]
    if step["kind"] == "cluster":
        update = aws("eks", "update-cluster-version", "--name", name,
                     "--kubernetes-version", step["version"], *args)
    else:
        version = ["--kubernetes-version", step["version"]] if "version" in step else []
        update = aws("eks", "update-nodegroup-version", "--cluster-name", name,
                     "--nodegroup-name", step["nodegroup"], *version, *args)
    return update["update"]["id"]


def describe_step(record, step):
    region, name = split(record["cluster"])
    nodegroup = ["--nodegroup-name", step["nodegroup"]] if step["kind"] == "nodegroup" else []
    return aws("eks", "describe-update", "--region", region, "--name", name,
               "--update-id", step["updateId"], *nodegroup)["update"]


def what(step):
    return "control plane" if step["kind"] == "cluster" else f"node group {step['nodegroup']}"


def advance(path, record):
    """Moves the operation on as far as EKS allows now, and says where it is."""
    wait = float(os.environ.get("EKS_RETRY_AFTER_SECONDS", "60"))
    for index, step in enumerate(record["steps"]):
        if step.get("done"):
            continue
        if "updateId" not in step:
            step["updateId"] = start_step(record, step, index)
            save(path, record)
        update = describe_step(record, step)
        status = update.get("status")
        if status == "Successful":
            step["done"] = True
            save(path, record)
            continue
        if status in ("Failed", "Cancelled"):
            errors = "; ".join(e.get("errorMessage", "") for e in update.get("errors", []))
            return {"state": "Failed", "message": f"{what(step)}: EKS update {status.lower()}: {errors}"}
        done = sum(1 for s in record["steps"] if s.get("done"))
        return {"state": "Running", "retryAfterSeconds": wait,
                "message": f"{what(step)}: {status} (step {done + 1} of {len(record['steps'])})"}
    return {"state": "Succeeded"}


def with_record(operation_id, work):
    """Runs `work(path, record)` holding the operation's lock (record None if never started)."""
    path = record_path(operation_id)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = None
        if os.path.exists(path):
            with open(path) as f:
                record = json.load(f)
        return work(path, record)


def verb_start_upgrade(request):
    def work(path, record):
        if record is None:
            split(request["cluster"])
            record = {"operationId": request["operationId"], "cluster": request["cluster"],
                      "target": request["target"], "steps": steps_of(request["target"])}
            # Recorded before EKS hears of it: a second start finds it and starts nothing.
            save(path, record)
        return advance(path, record)
    return with_record(request["operationId"], work)


def verb_operation_status(request):
    def work(path, record):
        if record is None:
            return {"state": "Unknown"}
        return advance(path, record)
    return with_record(request["operationId"], work)


VERBS = {
    "list": verb_list,
    "catalog": verb_catalog,
    "observe": verb_observe,
    "start-upgrade": verb_start_upgrade,
    "operation-status": verb_operation_status,
}


def main():
    verb = sys.argv[-1] if len(sys.argv) > 1 else ""
    if verb not in VERBS:
        print(f"unknown verb {verb!r}; known: {', '.join(VERBS)}", file=sys.stderr)
        return 2
    request = json.load(sys.stdin)
    if request.get("apiVersion") != API_VERSION:
        print(f"this provider speaks {API_VERSION}, not {request.get('apiVersion')!r}", file=sys.stderr)
        return 2
    try:
        answer = VERBS[verb](request)
    except TryLater as why:
        print(why, file=sys.stderr)
        return EX_TEMPFAIL
    except NotFound as why:
        print(why, file=sys.stderr)
        return 1
    except Refused as why:
        print(why, file=sys.stderr)
        return 1
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
