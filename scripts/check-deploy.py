#!/usr/bin/env python3
"""Static checks of deploy/: the container file and the Kubernetes manifest must agree with each
other and with the binary they run (they cannot be applied where Drydock is built).

- every DRYDOCK_* variable they set is one `drydock serve` reads;
- the port the server listens on is the one exposed, the container's port and the Service's;
- the probes ask the paths the server answers, and a real server answers them (200);
- the image runs as the non-root user the pod's security context names;
- three replicas or more, updated rolling, each named after its pod.

Usage: scripts/check-deploy.py [path/to/drydock]   (default target/debug/drydock)
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONTAINERFILE = os.path.join(ROOT, "deploy", "Containerfile")
MANIFEST = os.path.join(ROOT, "deploy", "kubernetes", "drydock.yaml")
# Read from the environment but hidden from --help (a secret has no place on a command line).
HIDDEN = {"DRYDOCK_ADMIN_PASSWORD", "DRYDOCK_DATABASE_MAX_CONNECTIONS"}

problems = []


def check(ok, message):
    if not ok:
        problems.append(message)


def known_variables(binary):
    text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"\[env: (DRYDOCK_[A-Z_]+)", text)) | HIDDEN


def containerfile():
    lines = [l.strip() for l in open(CONTAINERFILE) if l.strip() and not l.strip().startswith("#")]
    text = "\n".join(lines)
    env = dict(re.findall(r"(DRYDOCK_[A-Z_]+)=(\S+)", text))
    user = re.search(r"^USER (\d+)$", text, re.M)
    expose = re.search(r"^EXPOSE (\d+)$", text, re.M)
    check(user is not None, "Containerfile: USER must be a numeric, non-root uid")
    check(expose is not None, "Containerfile: EXPOSE the server's port")
    check("COPY target/release/drydock " in text, "Containerfile: copy the release server")
    check("COPY target/site " in text, "Containerfile: copy the site (WASM bundle, CSS)")
    check('ENTRYPOINT ["/usr/local/bin/drydock"]' in text, "Containerfile: the entry point is drydock")
    return env, int(user.group(1)) if user else None, int(expose.group(1)) if expose else None


def manifest():
    docs = [d for d in yaml.safe_load_all(open(MANIFEST)) if d]
    kinds = {d["kind"]: d for d in docs}
    check(set(kinds) == {"Deployment", "Service"}, f"manifest: a Deployment and a Service, not {sorted(kinds)}")
    return kinds.get("Deployment"), kinds.get("Service")


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(binary, paths):
    """Starts the real server and asks each path: {path: status}."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [binary, "serve", "--addr", f"127.0.0.1:{port}", "--database-url", f"sqlite://{tmp}/d.db"],
            env={**os.environ, "DRYDOCK_ADMIN_PASSWORD": "check-deploy-password"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.time() + 30
            statuses = {}
            while time.time() < deadline and len(statuses) < len(paths):
                for path in paths:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
                            statuses[path] = r.status
                    except urllib.error.HTTPError as e:
                        statuses[path] = e.code
                    except OSError:
                        time.sleep(0.2)
            return statuses
        finally:
            server.kill()
            server.wait()


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "debug", "drydock")
    known = known_variables(binary)
    image_env, image_user, exposed = containerfile()
    deployment, service = manifest()
    if not deployment or not service:
        return
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    env = {e["name"]: e for e in container.get("env", [])}
    for name in set(image_env) | set(env):
        check(name in known, f"{name} is set but drydock serve reads no such variable")
    addr = env.get("DRYDOCK_ADDR", {}).get("value") or image_env.get("DRYDOCK_ADDR")
    check(addr is not None and addr.startswith("0.0.0.0:"), "DRYDOCK_ADDR must listen on every interface in a pod")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    if addr:
        check(port_of(addr) == exposed, f"the server listens on {addr} but the image exposes {exposed}")
        check(port_of(addr) in ports.values(), f"the server listens on {addr}, the container declares {ports}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        http = container.get(probe, {}).get("httpGet", {})
        check(http.get("path") == path, f"{probe} must ask {path}")
        check(http.get("port") in ports or http.get("port") in ports.values(), f"{probe} names an unknown port")
    for port in service["spec"]["ports"]:
        check(port["targetPort"] in ports, f"the Service targets {port['targetPort']}, not a container port")
    check(service["spec"]["selector"] == spec["selector"]["matchLabels"], "the Service selects other pods")
    check(pod["securityContext"].get("runAsUser") == image_user, "the pod's runAsUser is not the image's USER")
    check(pod["securityContext"].get("runAsNonRoot") is True, "the pod must run as non-root")
    check(spec.get("replicas", 1) >= 3, "at least three replicas: one may die while another is being replaced")
    check(spec.get("strategy", {}).get("type") == "RollingUpdate", "a rolling update, so the service stays up")
    replica_id = env.get("DRYDOCK_REPLICA_ID", {}).get("valueFrom", {}).get("fieldRef", {})
    check(replica_id.get("fieldPath") == "metadata.name", "each replica is named after its pod (DRYDOCK_REPLICA_ID)")
    secret_env = [n for n, e in env.items() if "valueFrom" in e]
    check("DRYDOCK_DATABASE_URL" in secret_env, "the database URL (it holds a password) comes from a Secret")
    statuses = answers(binary, ["/healthz", "/readyz"])
    check(statuses == {"/healthz": 200, "/readyz": 200}, f"a real server answered the probes {statuses}")


main()
if problems:
    print("deploy/ does not hold together:", *problems, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print("deploy/: the container file, the manifest and the binary agree")
