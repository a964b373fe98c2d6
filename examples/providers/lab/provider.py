#!/usr/bin/env python3
"""A complete Drydock provider (protocol drydock/provider/v1) for a pretend lab fleet kept in
JSON files: the protocol with nothing else in the way, to read next to docs/providers.md.
Drydock's own tests drive real runs through it, so it also misbehaves on request.

    provider.py VERB    (request on standard input, answer on standard output)

Environment:
    LAB_DIR               where the lab lives (required):
                            fleet.json       {"catalog": {...}, "clusters": {name: state}}
                            operations.json  every operation started, by id
                            faults.json      optional misbehaviour, see FAULTS below
                            resources.json   placed objects: {cluster: {owner: {revision,
                                             manifests, applies}}}
                            calls.log        one line per call: time verb subject
                            upgrades.log     one line per upgrade applied: operation cluster
    LAB_UPGRADE_SECONDS   how long an upgrade takes, in real seconds (default 2)

If fleet.json has a "token", every call must bring it in LAB_TOKEN (a secret Drydock passes
from its configuration), or it is refused: how a real provider's credentials reach a script.

FAULTS (faults.json, all optional): "transientRate": 0.5 fails that share of calls with exit
75; "unreachable": [names] fails calls about those clusters for now; "stuck": [names] makes
their next upgrade never end; "lose": [names] answers their next start, then forgets it;
"refuse": {name: message} refuses upgrades of that cluster for good; "refuseObjects": {name:
message} refuses objects applied to that cluster (as an admission webhook would).

Calls may run at once (Drydock's max_parallel): each holds an exclusive lock on the lab while it
works, and files are replaced whole, so a call killed half-way leaves the lab as it was.
"""

import fcntl
import json
import os
import random
import sys
import time

EX_TEMPFAIL = 75
API_VERSION = "drydock/provider/v1"


class Refused(Exception):
    """A permanent refusal: exit 1, the reason on standard error."""


class TryLater(Exception):
    """A transient failure: exit 75, the reason on standard error."""


def lab_path(name):
    return os.path.join(os.environ["LAB_DIR"], name)


def load(name, default):
    try:
        with open(lab_path(name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def save(name, value):
    temp = lab_path(name + ".tmp")
    with open(temp, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, lab_path(name))


def append(name, line):
    with open(lab_path(name), "a") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def upgrade_seconds():
    return float(os.environ.get("LAB_UPGRADE_SECONDS", "2"))


def apply_target(state, target):
    """What the cluster runs once the upgrade is done."""
    if target.get("controlPlane"):
        state["kubernetesVersion"] = target["controlPlane"]["to"]
    for pool_target in target.get("nodePools", []):
        for pool in state["nodePools"]:
            if pool["name"] != pool_target["name"]:
                continue
            if pool_target.get("kubernetesVersion"):
                pool["kubernetesVersion"] = pool_target["kubernetesVersion"]["to"]
            if pool_target.get("nodeImageVersion"):
                pool["nodeImageVersion"] = pool_target["nodeImageVersion"]["to"]


class Lab:
    def __init__(self):
        self.fleet = load("fleet.json", {"catalog": {}, "clusters": {}})
        self.operations = load("operations.json", {})
        self.resources = load("resources.json", {})
        self.faults = load("faults.json", {})
        self.changed = set()

    def save(self):
        files = {"fleet.json": self.fleet, "operations.json": self.operations,
                 "resources.json": self.resources}
        for name in sorted(self.changed):
            save(name, files[name])

    def answers_for(self, cluster):
        if cluster in self.faults.get("unreachable", []):
            raise TryLater(f"cluster {cluster} is unreachable (lab)")

    def finish_due(self):
        """Applies every upgrade whose time has come, once."""
        now = time.time()
        for op_id, op in sorted(self.operations.items()):
            if op["applied"] or op["endsAt"] > now or op.get("stuck"):
                continue
            cluster = self.fleet["clusters"].get(op["cluster"])
            if cluster is not None:
                apply_target(cluster, op["target"])
                append("upgrades.log", f"{op_id} {op['cluster']}")
                self.changed.add("fleet.json")
            op["applied"] = True
            self.changed.add("operations.json")

    def status(self, op_id):
        op = self.operations[op_id]
        if op["cluster"] not in self.fleet["clusters"]:
            raise Refused(f"cluster {op['cluster']} no longer exists")
        if op["applied"]:
            return {"state": "Succeeded"}
        left = max(op["endsAt"] - time.time(), 0.0)
        return {"state": "Running", "message": "upgrading (lab)", "retryAfterSeconds": round(left, 3)}


def take_fault(lab, kind, cluster):
    """Consumes a one-shot fault of `kind` for `cluster`, if set."""
    names = lab.faults.get(kind, [])
    if cluster not in names:
        return False
    names.remove(cluster)
    save("faults.json", lab.faults)
    return True


def verb_list(lab, request):
    return {"clusters": sorted(lab.fleet["clusters"])}


def verb_catalog(lab, request):
    return lab.fleet["catalog"]


def verb_observe(lab, request):
    answers = []
    for name in request["clusters"]:
        if name in lab.faults.get("unreachable", []):
            error = {"code": "Unreachable", "message": f"cluster {name} is unreachable (lab)", "transient": True}
            answers.append({"name": name, "error": error})
        elif name not in lab.fleet["clusters"]:
            error = {"code": "ClusterNotFound", "message": f"no cluster {name} in the lab"}
            answers.append({"name": name, "error": error})
        else:
            answers.append({"name": name, "state": lab.fleet["clusters"][name]})
    return {"clusters": answers}


def verb_start_upgrade(lab, request):
    op_id, cluster = request["operationId"], request["cluster"]
    lab.answers_for(cluster)
    if op_id in lab.operations:
        # Started before (Drydock asks again after a crash): report, never upgrade twice.
        return lab.status(op_id)
    if cluster not in lab.fleet["clusters"]:
        raise Refused(f"no cluster {cluster} in the lab")
    refusal = lab.faults.get("refuse", {}).get(cluster)
    if refusal:
        raise Refused(refusal)
    op = {
        "cluster": cluster,
        "target": request["target"],
        "startedAt": time.time(),
        "endsAt": time.time() + upgrade_seconds(),
        "applied": False,
        "stuck": take_fault(lab, "stuck", cluster),
    }
    if take_fault(lab, "lose", cluster):
        return {"state": "Running", "message": "accepted (lab; it will forget this)"}
    lab.operations[op_id] = op
    lab.changed.add("operations.json")
    return lab.status(op_id)


def verb_operation_status(lab, request):
    op_id = request["operationId"]
    if op_id not in lab.operations:
        return {"state": "Unknown"}
    lab.answers_for(lab.operations[op_id]["cluster"])
    return lab.status(op_id)


def held_by(lab, request):
    """The owner's objects on the request's cluster, after checking the cluster answers."""
    cluster = request["cluster"]
    lab.answers_for(cluster)
    if cluster not in lab.fleet["clusters"]:
        raise Refused(f"no cluster {cluster} in the lab")
    return lab.resources.setdefault(cluster, {}), request["owner"]


def resources_answer(held):
    if held is None:
        return {"revision": None, "available": False}
    return {"revision": held["revision"], "available": True, "drifted": []}


def verb_apply_resources(lab, request):
    owned, owner = held_by(lab, request)
    refusal = lab.faults.get("refuseObjects", {}).get(request["cluster"])
    if refusal:
        raise Refused(refusal)
    held = owned.get(owner)
    if held is None or held["revision"] != request["revision"]:
        # A new revision replaces the owner's objects whole; the one held already is left be.
        applies = (held or {}).get("applies", 0) + 1
        owned[owner] = {"revision": request["revision"], "manifests": request["manifests"],
                        "applies": applies}
        lab.changed.add("resources.json")
    return resources_answer(owned[owner])


def verb_observe_resources(lab, request):
    owned, owner = held_by(lab, request)
    return resources_answer(owned.get(owner))


def verb_delete_resources(lab, request):
    owned, owner = held_by(lab, request)
    if owned.pop(owner, None) is not None:
        lab.changed.add("resources.json")
    return {}


VERBS = {
    "list": verb_list,
    "catalog": verb_catalog,
    "observe": verb_observe,
    "start-upgrade": verb_start_upgrade,
    "operation-status": verb_operation_status,
    "apply-resources": verb_apply_resources,
    "observe-resources": verb_observe_resources,
    "delete-resources": verb_delete_resources,
}


def subject(request):
    return (request.get("operationId") or request.get("cluster")
            or ",".join(request.get("clusters", [])) or "-")


def main():
    verb = sys.argv[-1] if len(sys.argv) > 1 else ""
    if verb not in VERBS:
        print(f"unknown verb {verb!r}; known: {', '.join(VERBS)}", file=sys.stderr)
        return 2
    request = json.load(sys.stdin)
    if request.get("apiVersion") != API_VERSION:
        print(f"this provider speaks {API_VERSION}, not {request.get('apiVersion')!r}", file=sys.stderr)
        return 2
    with open(lab_path("lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        append("calls.log", f"{time.time():.3f} {verb} {subject(request)}")
        lab = Lab()
        try:
            token = lab.fleet.get("token")
            if token is not None and os.environ.get("LAB_TOKEN") != token:
                raise Refused("unauthorized: LAB_TOKEN is missing or wrong")
            if random.random() < lab.faults.get("transientRate", 0.0):
                raise TryLater("the lab is throttling requests")
            lab.finish_due()
            answer = VERBS[verb](lab, request)
            lab.save()
        except TryLater as why:
            lab.save()
            print(why, file=sys.stderr)
            return EX_TEMPFAIL
        except Refused as why:
            lab.save()
            print(why, file=sys.stderr)
            return 1
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
