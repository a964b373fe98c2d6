//! The bad-input corpus: requests a careless script or a hostile client sends, each with the
//! status and error code it must get. Every client mistake is a 4xx in the API's own error
//! shape (REST: `{"error": {"code", "message"}}`; server functions: `{"kind", "code",
//! "message"}`) and changes nothing. New routes join the tables; every registered server
//! function and every REST route is also swept with junk automatically.

use crate::common;

use axum::http::StatusCode;
use serde_json::Value;

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// One bad request and what it must get.
struct Case {
    method: &'static str,
    uri: &'static str,
    content_type: &'static str,
    body: Option<&'static str>,
    status: u16,
    code: &'static str,
}

const fn case(
    method: &'static str,
    uri: &'static str,
    content_type: &'static str,
    body: Option<&'static str>,
    status: u16,
    code: &'static str,
) -> Case {
    Case {
        method,
        uri,
        content_type,
        body,
        status,
        code,
    }
}

/// REST: `/api/v1/…`, on the demo fleet.
#[rustfmt::skip]
const REST: &[Case] = &[
    // Fleets: a fleet has no settable properties; what is not a fleet body is refused.
    case("PUT", "/api/v1/fleets/f1", JSON, Some(r#"{"properties":"x"}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/f1", JSON, Some("[]"), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/f1", JSON, Some("5"), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/f1", JSON, Some(r#"{"bogusField":true}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/f1", JSON, Some(r#"{"properties":{"tier":"gold"}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/f1", JSON, Some("{"), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/f1", JSON, Some("{} {}"), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/Bad_Name", JSON, Some("{}"), 400, "InvalidFleetName"),
    case("GET", "/api/v1/fleets/%FF", JSON, None, 400, "InvalidRequest"),
    case("GET", "/api/v1/fleets/nope", JSON, None, 404, "FleetNotFound"),
    case("PATCH", "/api/v1/fleets/demo", JSON, Some("{}"), 405, "MethodNotAllowed"),
    case("GET", "/api/v1/nothing/here", JSON, None, 404, "NoSuchRoute"),
    // Members: read-only fields only in their own shape; unknown fields refused.
    case("PUT", "/api/v1/fleets/demo/members/aks-eastus-1", JSON, Some(r#"{"properties":{"clusterResourceId":"sim:aks-eastus-1","status":"x"}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/members/aks-eastus-1", JSON, Some(r#"{"etag":5,"properties":{"clusterResourceId":"sim:aks-eastus-1"}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/members/aks-eastus-1", JSON, Some(r#"{"properties":{"clusterResourceId":"sim:aks-eastus-1","grop":"g"}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/members/m-new", JSON, Some(r#"{"properties":{"clusterResourceId":"sim:nowhere"}}"#), 400, "ClusterNotFound"),
    case("PUT", "/api/v1/fleets/demo/members/m-new", JSON, Some(r#"{"properties":{"clusterResourceId":"sim:aks-eastus-1"}}"#), 409, "ClusterAlreadyMember"),
    case("DELETE", "/api/v1/fleets/demo/members/aks-eastus-1?force=maybe", JSON, None, 400, "InvalidQueryParameter"),
    case("DELETE", "/api/v1/fleets/demo/members/aks-eastus-1?forse=true", JSON, None, 400, "InvalidQueryParameter"),
    // Strategies and runs.
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","groups":[{"name":"nope"}]}]}}}"#), 400, "UnknownUpdateGroup"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"Full","kubernetesVersion":"1.30.x"}}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"}},"bogus":1}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"}},"placementRollout":{"placementName":"web"}}}"#), 400, "AmbiguousUpdate"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"placementRollout":{"placementName":"nowhere"}}}"#), 400, "PlacementNotFound"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"placementRollout":{"placementName":"web","snapshot":"newest"}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"},"stoppedClusterAction":"Ignore"}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","maxConcurrency":"0","groups":[{"name":"group-1a"}]}]}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","groups":[{"name":"group-1a","maxConcurrency":"101%"}]}]}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","maxAllowedFailures":"-1","groups":[{"name":"group-1a"}]}]}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"maxAllowedFailures":"01","stages":[{"name":"a","groups":[{"name":"group-1a"}]}]}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","groups":[{"name":"group-1a","maxAllowedFailures":"10%%"}]}]},"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"}}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","beforeGates":[{"type":"Vote"}],"groups":[{"name":"group-1a"}]}]}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","groups":[{"name":"group-1a","afterGates":[{"type":"ScheduledStart","scheduledStartConfiguration":{"startDay":"Monday","startTime":"02:00","utcOffset":"Z"}}]}]}]}}}"#), 400, "InvalidStrategy"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","beforeGates":[{"type":"ScheduledStart","scheduledStartConfiguration":{"startDay":"Someday","startTime":"02:00","utcOffset":"Z"}}],"groups":[{"name":"group-1a"}]}]}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","beforeGates":[{"type":"Approval","timeoutInSeconds":60}],"groups":[{"name":"group-1a"}]}]}}}"#), 400, "InvalidStrategy"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","memberSelector":{"byLabel":"env=staging"}},{"name":"b","memberSelector":{"byLabel":"env in (staging,production)"}}]}}}"#), 400, "OverlappingMemberSelectors"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","groups":[{"name":"g1","memberSelector":{"byLabel":"env"}},{"name":"g2","memberSelector":{"byLabel":"env!=sandbox"}}]}]},"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"}}}}"#), 400, "OverlappingMemberSelectors"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a","memberSelector":{"byLabel":"env in staging"}}]}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateStrategies/s1", JSON, Some(r#"{"properties":{"strategy":{"stages":[{"name":"a"}]}}}"#), 400, "InvalidStrategy"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"},"nodeImageSelection":{"type":"Custom"}}}}"#), 400, "InvalidUpgrade"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"},"nodeImageSelection":{"type":"Custom","customNodeImageVersions":[{"version":"AKSUbuntu-2204gen2containerd-209901.01.0"}]}}}}"#), 400, "InvalidUpgrade"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"},"nodeImageSelection":{"type":"Custom","customNodeImageVersions":[{"version":"latest"}]}}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/updateRuns/r1", JSON, Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"},"nodeImageSelection":{"type":"Latest","customNodeImageVersions":[{"version":"AKSUbuntu-2204gen2containerd-202409.01.0"}]}}}}"#), 400, "InvalidUpgrade"),
    // Auto-upgrade profiles and catch-up runs.
    case("PUT", "/api/v1/fleets/demo/autoUpgradeProfiles/p1", JSON, Some(r#"{"properties":{"channel":"Weekly"}}"#), 400, "InvalidAutoUpgradeProfile"),
    case("PUT", "/api/v1/fleets/demo/autoUpgradeProfiles/p1", JSON, Some(r#"{"properties":{"channel":"Rapid","autoUpgradeProfileStatus":"x"}}"#), 400, "InvalidAutoUpgradeProfile"),
    case("PUT", "/api/v1/fleets/demo/autoUpgradeProfiles/p1", JSON, Some(r#"{"properties":{"channel":"TargetKubernetesVersion","targetKubernetesVersion":"1.30.5"}}"#), 400, "InvalidAutoUpgradeProfile"),
    case("PUT", "/api/v1/fleets/demo/autoUpgradeProfiles/P1", JSON, Some(r#"{"properties":{"channel":"Rapid"}}"#), 400, "InvalidAutoUpgradeProfileName"),
    case("GET", "/api/v1/fleets/demo/autoUpgradeProfiles/nope", JSON, None, 404, "AutoUpgradeProfileNotFound"),
    case("PUT", "/api/v1/fleets/demo/resources/web", JSON, Some(r#"{"properties":{}}"#), 400, "InvalidManifest"),
    case("PUT", "/api/v1/fleets/demo/resources/web", JSON, Some(r#"{"properties":{"manifests":[{"kind":"ConfigMap","metadata":{"name":"a"}}]}}"#), 400, "InvalidManifest"),
    case("PUT", "/api/v1/fleets/demo/resources/web", JSON, Some(r#"{"properties":{"manifests":{"kind":"ConfigMap"}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/resources/web", JSON, Some(r#"{"properties":{"yaml":"kind: [ConfigMap"}}"#), 400, "InvalidManifest"),
    case("PUT", "/api/v1/fleets/demo/resources/web", JSON, Some(r#"{"properties":{"yaml":"a: &x [*x]"}}"#), 400, "InvalidManifest"),
    case("PUT", "/api/v1/fleets/demo/resources/web", JSON, Some(r#"{"properties":{"yaml":"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: Prod\n"}}"#), 400, "InvalidManifest"),
    case("PUT", "/api/v1/fleets/demo/resources/web", JSON, Some(r#"{"properties":{"yaml":"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n","manifests":[]}}"#), 400, "InvalidManifest"),
    case("PUT", "/api/v1/fleets/demo/resources/Web", JSON, Some(r#"{"properties":{"yaml":"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"}}"#), 400, "InvalidResourceName"),
    case("PUT", "/api/v1/fleets/nope/resources/web", JSON, Some(r#"{"properties":{"yaml":"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"}}"#), 404, "FleetNotFound"),
    case("GET", "/api/v1/fleets/demo/resources/nope", JSON, None, 404, "ResourceNotFound"),
    case("PUT", "/api/v1/fleets/demo/placements/p", JSON, Some(r#"{"properties":{"resources":["nope"]}}"#), 400, "InvalidPlacement"),
    case("PUT", "/api/v1/fleets/demo/placements/p", JSON, Some(r#"{"properties":{"resources":["web"],"policy":{"placementType":"PickN","numberOfClusters":-1}}}"#), 400, "InvalidPlacement"),
    case("PUT", "/api/v1/fleets/demo/placements/p", JSON, Some(r#"{"properties":{"resources":["web"],"policy":{"placementType":"PickAll","clusterNames":["a"]}}}"#), 400, "InvalidPlacement"),
    case("PUT", "/api/v1/fleets/demo/placements/p", JSON, Some(r#"{"properties":{"resources":["web"],"status":"x"}}"#), 400, "InvalidPlacement"),
    case("PUT", "/api/v1/fleets/demo/placements/P", JSON, Some(r#"{"properties":{"resources":["web"]}}"#), 400, "InvalidPlacementName"),
    case("GET", "/api/v1/fleets/demo/placements/nope", JSON, None, 404, "PlacementNotFound"),
    case("PUT", "/api/v1/fleets/demo/resourceOverrides/o", JSON, Some(r#"{"properties":{"placement":"nope","policy":{"overrideRules":[{"overrideType":"Delete"}]}}}"#), 400, "InvalidResourceOverride"),
    case("PUT", "/api/v1/fleets/demo/resourceOverrides/o", JSON, Some(r#"{"properties":{"placement":"web","policy":{"overrideRules":[{"jsonPatchOverrides":[{"op":"move","path":"/a"}]}]}}}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/fleets/demo/resourceOverrides/o", JSON, Some(r#"{"properties":{"placement":"web","policy":{"overrideRules":[]}}}"#), 400, "InvalidResourceOverride"),
    case("PUT", "/api/v1/fleets/demo/resourceOverrides/O", JSON, Some(r#"{"properties":{"placement":"web","policy":{"overrideRules":[]}}}"#), 400, "InvalidResourceOverrideName"),
    case("GET", "/api/v1/fleets/demo/resourceOverrides/nope", JSON, None, 404, "ResourceOverrideNotFound"),
    case("PUT", "/api/v1/simulator/clusters/aks-eastus-1/resourceFaults", JSON, Some(r#"{"readyAfterSeconds":-1}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/simulator/clusters/aks-eastus-1/resourceFaults", JSON, Some(r#"{"applyFailNxt":true}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/simulator/clusters/nope/resourceFaults", JSON, Some(r#"{"applyFailNext":true}"#), 404, "ClusterNotFound"),
    case("POST", "/api/v1/simulator/clusters/aks-eastus-1/drift", JSON, Some(r#"{"owner":"demo/web"}"#), 400, "InvalidRequestContent"),
    case("POST", "/api/v1/simulator/clusters/aks-eastus-1/drift", JSON, Some(r#"{"owner":"demo/nothing","objects":[]}"#), 404, "NothingPlaced"),
    case("POST", "/api/v1/simulator/clusters/nope/drift", JSON, Some(r#"{"owner":"demo/web","objects":[]}"#), 404, "ClusterNotFound"),
    case("GET", "/api/v1/simulator/clusters/nope/resources", JSON, None, 404, "ClusterNotFound"),
    case("PUT", "/api/v1/fleets/demo/members/aks-eastus-1", JSON, Some(r#"{"properties":{"clusterResourceId":"sim:aks-eastus-1","taints":[{"key":"k","effect":"NoExecute"}]}}"#), 400, "InvalidRequestContent"),
    case("GET", "/api/v1/fleets/demo/resources/nope/snapshots/1", JSON, None, 404, "ResourceNotFound"),
    case("GET", "/api/v1/fleets/demo/resources/nope/snapshots/-1", JSON, None, 400, "InvalidSnapshotIndex"),
    case("POST", "/api/v1/fleets/demo/autoUpgradeProfiles/nope/generateUpdateRun", JSON, None, 404, "AutoUpgradeProfileNotFound"),
    case("POST", "/api/v1/fleets/demo/autoUpgradeProfiles/nope/generateUpdateRun", JSON, Some(r#"{"now":true}"#), 400, "InvalidRequestContent"),
    case("GET", "/api/v1/fleets/demo/updateRuns/nope/leftBehind", JSON, None, 404, "UpdateRunNotFound"),
    case("POST", "/api/v1/fleets/demo/updateRuns/known/createCatchUpRun", JSON, None, 409, "UpdateRunNotFinished"),
    case("POST", "/api/v1/fleets/demo/updateRuns/known/createCatchUpRun", JSON, Some(r#"{"name":"Bad Name"}"#), 400, "InvalidUpdateRunName"),
    case("POST", "/api/v1/fleets/demo/updateRuns/known/createCatchUpRun", JSON, Some(r#"{"nom":"x"}"#), 400, "InvalidRequestContent"),
    case("GET", "/api/v1/fleets/demo/gates?state=Open", JSON, None, 400, "InvalidQueryParameter"),
    case("GET", "/api/v1/fleets/demo/gates/known.stage.before", JSON, None, 404, "GateNotFound"),
    case("PATCH", "/api/v1/fleets/demo/gates/known.stage.before", JSON, Some(r#"{"properties":{"state":"Skipped"}}"#), 400, "InvalidGateState"),
    case("PATCH", "/api/v1/fleets/demo/gates/known.stage.before", JSON, Some(r#"{"properties":{"state":"Completed"}}"#), 404, "GateNotFound"),
    case("DELETE", "/api/v1/fleets/demo/gates/known.stage.before", JSON, None, 405, "MethodNotAllowed"),
    case("POST", "/api/v1/fleets/demo/updateRuns/known/start", JSON, Some(r#"{"now":true}"#), 400, "InvalidRequestContent"),
    case("POST", "/api/v1/fleets/demo/updateRuns/known/skip", JSON, Some(r#"{"targets":[{"type":"Group","name":"group-1a","extra":1}]}"#), 400, "InvalidRequestContent"),
    case("POST", "/api/v1/fleets/demo/updateRuns/known/skip", JSON, Some(r#"{"targets":[{"type":"Cluster","name":"x"}]}"#), 400, "InvalidRequestContent"),
    case("GET", "/api/v1/fleets/demo/updateRuns/known/timeline?after=-1", JSON, None, 400, "InvalidQueryParameter"),
    case("GET", "/api/v1/fleets/demo/updateRuns/known/timeline?limit=x", JSON, None, 400, "InvalidQueryParameter"),
    // Webhooks.
    case("PUT", "/api/v1/webhooks/Chat_Hook", JSON, Some(r#"{"properties":{"url":"https://x"}}"#), 400, "InvalidWebhookName"),
    case("PUT", "/api/v1/webhooks/chat", JSON, Some(r#"{"properties":{"url":"mailto:ops@example.com"}}"#), 400, "InvalidWebhook"),
    case("PUT", "/api/v1/webhooks/chat", JSON, Some(r#"{"properties":{"url":"https://x","eventTypes":["io.drydock.*"]}}"#), 400, "InvalidWebhook"),
    case("PUT", "/api/v1/webhooks/chat", JSON, Some(r#"{"properties":{"url":"https://x","disabled":"yes"}}"#), 400, "InvalidRequestContent"),
    case("GET", "/api/v1/webhooks/nope", JSON, None, 404, "WebhookNotFound"),
    case("GET", "/api/v1/webhooks/nope/deliveries?limit=x", JSON, None, 400, "InvalidQueryParameter"),
    case("GET", "/api/v1/webhooks/nope/deliveries", JSON, None, 404, "WebhookNotFound"),
    // Access: tokens, users, the audit trail, sign-in (everyone is an admin here: --auth none).
    case("POST", "/api/v1/tokens", JSON, Some(r#"{"properties":{"role":"root"}}"#), 400, "InvalidRequestContent"),
    case("POST", "/api/v1/tokens", JSON, Some(r#"{"properties":{"role":"viewer","expiresInDays":0}}"#), 400, "TokenNeedsUser"),
    case("DELETE", "/api/v1/tokens/tok-nope", JSON, None, 404, "TokenNotFound"),
    case("PUT", "/api/v1/users/Bob!", JSON, Some(r#"{"properties":{"password":"long-enough-pass","roles":[]}}"#), 400, "InvalidUserName"),
    case("PUT", "/api/v1/users/bob", JSON, Some(r#"{"properties":{"roles":[]}}"#), 400, "PasswordRequired"),
    case("PUT", "/api/v1/users/bob", JSON, Some(r#"{"properties":{"password":"short","roles":[]}}"#), 400, "InvalidPassword"),
    case("PUT", "/api/v1/users/bob", JSON, Some(r#"{"properties":{"password":"long-enough-pass","roles":[{"role":"root"}]}}"#), 400, "InvalidRequestContent"),
    case("GET", "/api/v1/users/nobody", JSON, None, 404, "UserNotFound"),
    case("GET", "/api/v1/audit?limit=0", JSON, None, 400, "InvalidQueryParameter"),
    case("GET", "/api/v1/audit?who=x", JSON, None, 400, "InvalidQueryParameter"),
    case("POST", "/auth/login", JSON, Some("{}"), 400, "InvalidSignIn"),
    case("GET", "/auth/login", JSON, None, 405, "MethodNotAllowed"),
    case("POST", "/auth/password", JSON, Some(r#"{"current_password":"x"}"#), 400, "InvalidPasswordChange"),
    case("GET", "/auth/oidc/login?next=/", JSON, None, 404, "SingleSignOnNotConfigured"),
    case("GET", "/auth/oidc/callback?code=c&state=s", JSON, None, 404, "SingleSignOnNotConfigured"),
    // The simulator.
    case("PUT", "/api/v1/simulator/clusters/c1", JSON, Some(r#"{"location":"eastus","kubernetesVersion":"1.29.7","nodePools":[{"name":"system","count":"3","kubernetesVersion":"1.29.7","osSku":"AKSUbuntu-2204gen2containerd","nodeImageVersion":"AKSUbuntu-2204gen2containerd-202409.04.0"}]}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/simulator/clusters/c1", JSON, Some(r#"{"location":"eastus","kubernetesVersion":"1.29.7","nodePools":[],"powerState":"Paused"}"#), 400, "InvalidRequestContent"),
    case("PUT", "/api/v1/simulator/catalog", JSON, Some(r#"{"kubernetesVersions":["1.30.12"],"nodeImages":{"mars":{"AKSUbuntu-2204gen2containerd":["202409.04.0"]}}}"#), 409, "CatalogInUse"),
];

/// Server functions: `/fn/…`.
#[rustfmt::skip]
const SERVER_FUNCTIONS: &[Case] = &[
    case("POST", "/fn/start_run", FORM, Some("fleet=demo"), 400, "InvalidArguments"),
    case("POST", "/fn/start_run", FORM, Some("fleet=demo&run=a&run=b"), 400, "InvalidArguments"),
    case("POST", "/fn/start_run", FORM, Some("fleet=Bad&run=a"), 400, "InvalidFleetName"),
    case("POST", "/fn/start_run", FORM, Some("fleet=demo&run=nope"), 404, "UpdateRunNotFound"),
    case("POST", "/fn/create_run", JSON, Some("{"), 400, "InvalidRequestContent"),
    case("POST", "/fn/create_run", JSON, Some(r#"{"fleet":"demo","run":"r2","request":{"bogus":1}}"#), 400, "InvalidRequestContent"),
    case("POST", "/fn/create_run", JSON, Some(r#"{"fleet":"demo","run":"r2","request":{"strategy":{"kind":"oneByOne"},"update":{"upgrade":{"type":"NodeImageOnly"}},"extra":1}}"#), 400, "InvalidRequestContent"),
    case("POST", "/fn/skip", JSON, Some(r#"{"fleet":"demo","run":"known","targets":[{"type":"Group","name":"group-1a","extra":true}]}"#), 400, "InvalidRequestContent"),
    case("POST", "/fn/save_strategy", JSON, Some(r#"{"fleet":"demo","name":"s","strategy":{"stages":[]},"replace":"yes"}"#), 400, "InvalidRequestContent"),
    case("POST", "/fn/save_profile", JSON, Some(r#"{"fleet":"demo","name":"p","profile":{"channel":"Stable","longTermSupport":true}}"#), 400, "InvalidAutoUpgradeProfile"),
    case("POST", "/fn/save_profile", JSON, Some(r#"{"fleet":"demo","name":"P!","profile":{"channel":"Stable"}}"#), 400, "InvalidAutoUpgradeProfileName"),
    case("POST", "/fn/save_profile", JSON, Some(r#"{"fleet":"demo","name":"p","profile":{"channel":"Stable","extra":1}}"#), 400, "InvalidRequestContent"),
    case("POST", "/fn/generate_run", FORM, Some("fleet=demo&name=nope"), 404, "AutoUpgradeProfileNotFound"),
    case("POST", "/fn/delete_profile", FORM, Some("fleet=demo&name=nope"), 404, "AutoUpgradeProfileNotFound"),
    case("GET", "/fn/left_behind?fleet=demo&run=nope", JSON, None, 404, "UpdateRunNotFound"),
    case("POST", "/fn/save_override", JSON, Some(r#"{"fleet":"demo","name":"Bad!","spec":{"placement":"web","policy":{"overrideRules":[{"overrideType":"Delete"}]}}}"#), 400, "InvalidResourceOverrideName"),
    case("POST", "/fn/save_override", JSON, Some(r#"{"fleet":"demo","name":"o","spec":{"placement":"web","policy":{"overrideRules":[]}}}"#), 400, "InvalidResourceOverride"),
    case("POST", "/fn/save_override", JSON, Some(r#"{"fleet":"demo","name":"o","spec":{"placement":"web","policy":{"overrideRules":[{"overrideType":"Delete"}]},"extra":1}}"#), 400, "InvalidRequestContent"),
    case("POST", "/fn/delete_override", FORM, Some("fleet=demo&name=Bad!"), 400, "InvalidResourceOverrideName"),
    case("GET", "/fn/placement_matrix?fleet=demo&offset=x&limit=10", JSON, None, 400, "InvalidArguments"),
    case("GET", "/fn/placement_matrix?fleet=nope&offset=0&limit=10", JSON, None, 404, "FleetNotFound"),
    case("POST", "/fn/create_run", JSON, Some(r#"{"fleet":"demo","run":"r2","request":{"strategy":{"kind":"oneByOne"},"update":{"upgrade":{"type":"NodeImageOnly"}},"placement":{"placementName":"nowhere"}}}"#), 400, "PlacementNotFound"),
    case("POST", "/fn/create_catch_up_run", FORM, Some("fleet=demo&run=known&name=Bad!"), 400, "InvalidUpdateRunName"),
    case("POST", "/fn/create_catch_up_run", FORM, Some("fleet=demo&run=known"), 409, "UpdateRunNotFinished"),
    case("GET", "/fn/get_run", JSON, None, 400, "InvalidArguments"),
    case("GET", "/fn/get_run?fleet=demo&run=nope", JSON, None, 404, "UpdateRunNotFound"),
    case("POST", "/fn/get_run", FORM, Some("fleet=demo&run=known"), 405, "MethodNotAllowed"),
    case("GET", "/fn/no_such_function", JSON, None, 404, "NoSuchServerFunction"),
    case("GET", "/fn/run_outline?fleet=demo", JSON, None, 400, "InvalidArguments"),
    case("GET", "/fn/run_outline?fleet=demo&run=nope", JSON, None, 404, "UpdateRunNotFound"),
    case("GET", "/fn/run_members?fleet=demo&run=known", JSON, None, 400, "InvalidArguments"),
    case("GET", "/fn/run_members?fleet=demo&run=known&group=group-1a&offset=-1", JSON, None, 400, "InvalidArguments"),
    case("GET", "/fn/run_members?fleet=demo&run=known&group=nope", JSON, None, 404, "UpdateGroupNotFound"),
    case("GET", "/fn/fleet_overview?fleet=demo&limit=x", JSON, None, 400, "InvalidArguments"),
    case("POST", "/fn/create_token", FORM, Some("role=root&fleet=&expires_in_days=&description="), 400, "InvalidRole"),
    case("POST", "/fn/create_token", FORM, Some("role=viewer&fleet=&expires_in_days=-1&description="), 400, "InvalidExpiry"),
    case("POST", "/fn/revoke_token", FORM, Some("id=tok-nope"), 404, "TokenNotFound"),
    case("GET", "/fn/audit_log?before=soon", JSON, None, 400, "InvalidArguments"),
    case("POST", "/fn/add_user", FORM, Some("name=Bob!&password=long-enough-pass&role=viewer&fleet="), 400, "InvalidUserName"),
    case("POST", "/fn/add_user", FORM, Some("name=bob&password=long-enough-pass&role=root&fleet="), 400, "InvalidRole"),
    case("POST", "/fn/add_user", FORM, Some("name=bob&password=short&role=viewer&fleet="), 400, "InvalidPassword"),
    case("POST", "/fn/set_user_roles", JSON, Some(r#"{"name":"bob","roles":[{"role":"root"}]}"#), 400, "InvalidRequestContent"),
    case("POST", "/fn/set_user_roles", JSON, Some(r#"{"name":"nobody","roles":[]}"#), 400, "PasswordRequired"),
    case("POST", "/fn/delete_user", FORM, Some("name=nobody"), 404, "UserNotFound"),
];

async fn server() -> common::TestServer {
    let s = common::start_with("sqlite::memory:", true).await;
    let created = s
        .put(
            "/api/v1/fleets/demo/updateRuns/known",
            serde_json::json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    s
}

/// What the server holds, to show a refused request changed nothing.
async fn state_of(s: &common::TestServer) -> Value {
    let mut state = serde_json::Map::new();
    for uri in [
        "/api/v1/fleets",
        "/api/v1/fleets/demo/members",
        "/api/v1/fleets/demo/updateStrategies",
        "/api/v1/fleets/demo/autoUpgradeProfiles",
        "/api/v1/fleets/demo/resources",
        "/api/v1/fleets/demo/placements",
        "/api/v1/fleets/demo/resourceOverrides",
        "/api/v1/fleets/demo/updateRuns",
        "/api/v1/simulator/catalog",
        "/api/v1/simulator/clusters",
        "/api/v1/webhooks",
        "/api/v1/tokens",
        "/api/v1/users",
    ] {
        state.insert(uri.into(), s.get(uri).await.body);
    }
    Value::Object(state)
}

fn error_code(body: &Value, rest: bool) -> Option<&str> {
    if rest {
        body["error"]["message"].as_str()?;
        body["error"]["code"].as_str()
    } else {
        body["kind"].as_str()?;
        body["message"].as_str()?;
        body["code"].as_str()
    }
}

async fn check(s: &common::TestServer, cases: &[Case], rest: bool) {
    let before = state_of(s).await;
    let mut wrong = Vec::new();
    for c in cases {
        let reply = s.send(c.method, c.uri, c.body, c.content_type).await;
        let code = error_code(&reply.body, rest);
        if reply.status.as_u16() != c.status || code != Some(c.code) {
            wrong.push(format!(
                "{} {} {:?}: want {} {}, got {} {}",
                c.method, c.uri, c.body, c.status, c.code, reply.status, reply.body
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        state_of(s).await,
        before,
        "a refused request changed something"
    );
}

#[tokio::test]
async fn every_rest_mistake_in_the_corpus_is_a_4xx_that_says_why_and_changes_nothing() {
    check(&server().await, REST, true).await;
}

#[tokio::test]
async fn every_server_function_mistake_in_the_corpus_is_a_4xx_that_says_why_and_changes_nothing() {
    check(&server().await, SERVER_FUNCTIONS, false).await;
}

/// Junk bodies every write is tried with.
const JUNK: [&str; 5] = ["{", "[]", "\"x\"", "{\"zzz\":1}", "\u{0}"];

#[tokio::test]
async fn every_registered_server_function_answers_junk_with_a_4xx_in_its_error_shape() {
    let s = server().await;
    let before = state_of(&s).await;
    let mut wrong = Vec::new();
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        // A function that takes no arguments (it answers a bare call) has nothing to get wrong.
        let bare = s.send(method.as_str(), path, None, JSON).await;
        if bare.status.is_success() {
            continue;
        }
        for junk in JUNK {
            let (uri, body) = match method.as_str() {
                "GET" => (format!("{path}?zzz={}", percent_encoded(junk)), None),
                _ => (path.to_owned(), Some(junk)),
            };
            for content_type in [JSON, FORM] {
                let reply = s.send(method.as_str(), &uri, body, content_type).await;
                if !reply.status.is_client_error() || error_code(&reply.body, false).is_none() {
                    wrong.push(format!(
                        "{method} {uri} {junk:?} ({content_type}): {} {}",
                        reply.status, reply.body
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(state_of(&s).await, before);
}

fn percent_encoded(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Every REST route that takes a body (and the sign-in routes), by method and an example path.
const WRITES: &[(&str, &str)] = &[
    ("PUT", "/api/v1/fleets/f-junk"),
    ("PUT", "/api/v1/fleets/demo/members/aks-eastus-1"),
    ("PUT", "/api/v1/fleets/demo/updateStrategies/s-junk"),
    ("PUT", "/api/v1/fleets/demo/updateRuns/r-junk"),
    ("POST", "/api/v1/fleets/demo/updateRuns/known/start"),
    ("POST", "/api/v1/fleets/demo/updateRuns/known/stop"),
    ("POST", "/api/v1/fleets/demo/updateRuns/known/skip"),
    ("POST", "/api/v1/fleets/demo/updateRuns/known/plan"),
    (
        "POST",
        "/api/v1/fleets/demo/updateRuns/known/createCatchUpRun",
    ),
    ("PUT", "/api/v1/fleets/demo/autoUpgradeProfiles/p-junk"),
    (
        "POST",
        "/api/v1/fleets/demo/autoUpgradeProfiles/p-junk/generateUpdateRun",
    ),
    ("PUT", "/api/v1/fleets/demo/resources/r-junk"),
    ("PUT", "/api/v1/fleets/demo/placements/p-junk"),
    ("PUT", "/api/v1/fleets/demo/resourceOverrides/o-junk"),
    ("PUT", "/api/v1/simulator/catalog"),
    ("PUT", "/api/v1/simulator/clusters/c-junk"),
    (
        "PUT",
        "/api/v1/simulator/clusters/aks-eastus-1/resourceFaults",
    ),
    ("POST", "/api/v1/simulator/clusters/aks-eastus-1/drift"),
    ("POST", "/api/v1/tokens"),
    ("PUT", "/api/v1/users/u-junk"),
    ("POST", "/auth/login"),
    ("POST", "/auth/password"),
];

#[tokio::test]
async fn every_rest_write_answers_junk_and_oversized_bodies_with_a_4xx_in_arm_shape() {
    let s = server().await;
    let before = state_of(&s).await;
    let oversized = "x".repeat(server::rest::MAX_BODY_BYTES + 1);
    let mut wrong = Vec::new();
    for (method, uri) in WRITES {
        for junk in JUNK.iter().copied().chain([oversized.as_str()]) {
            let reply = s.send(method, uri, Some(junk), JSON).await;
            let want_too_large = junk.len() > server::rest::MAX_BODY_BYTES;
            let status_ok = if want_too_large {
                reply.status == StatusCode::PAYLOAD_TOO_LARGE
            } else {
                reply.status.is_client_error()
            };
            if !status_ok || error_code(&reply.body, true).is_none() {
                wrong.push(format!(
                    "{method} {uri} ({} bytes): {} {}",
                    junk.len(),
                    reply.status,
                    reply.body
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(state_of(&s).await, before);
}

#[tokio::test]
async fn error_messages_stay_short_however_much_was_wrong() {
    let s = server().await;
    let groups: Vec<Value> = (0..10_000)
        .map(|i| serde_json::json!({"name": format!("missing-{i}")}))
        .collect();
    let reply = s
        .put(
            "/api/v1/fleets/demo/updateStrategies/huge",
            serde_json::json!({"properties": {"strategy": {"stages": [{"name": "a", "groups": groups}]}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(message.len() < 300, "{} bytes: {message}", message.len());
    assert!(message.contains("and 9995 more"), "{message}");
}

#[tokio::test]
async fn requests_with_huge_heads_are_refused_in_the_error_shape() {
    use tower::ServiceExt;
    let s = server().await;
    let long = format!("/api/v1/fleets/demo?x={}", "a".repeat(9_000));
    let too_long = s.get(&long).await;
    assert_eq!(too_long.status, StatusCode::URI_TOO_LONG);
    assert_eq!(too_long.code(), "UriTooLong");
    let mut request = axum::http::Request::builder().uri("/api/v1/fleets");
    for i in 0..150 {
        request = request.header(format!("x-h{i}"), "v");
    }
    let response = s
        .router
        .clone()
        .oneshot(request.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "HeadersTooLarge");
}
